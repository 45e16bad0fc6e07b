// Package cases holds the rules for cases: the complaints, questions and pieces of feedback
// that people send to a complaints and feedback mechanism (CFM) and that staff then track
// until they are answered and closed.
//
// A case has a reference the person can read out on the phone or type on a keypad
// ([Reference]), a category that sets its priority, its deadlines and whether it is sensitive
// ([Category]), and a status that moves along a fixed lifecycle ([Status]).
//
// The rules are pure ([Category], [Status], [Reference]). The operations on a case (opening it,
// moving it along its lifecycle, the caseworkers' work in work.go) decide what is allowed and
// write it through the store package, in the caller's transaction; this package holds no
// storage and no mutable global state. Telling the person is the gateway's job.
package cases
