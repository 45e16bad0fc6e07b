// Package cases holds the rules for cases: the complaints, questions and pieces of feedback
// that people send to a complaints and feedback mechanism (CFM) and that staff then track
// until they are answered and closed.
//
// A case has a reference the person can read out on the phone or type on a keypad
// ([Reference]), a category that sets its priority, its deadlines and whether it is sensitive
// ([Category]), and a status that moves along a fixed lifecycle ([Status]).
//
// This package is rules only: it does no I/O, holds no storage and has no mutable global
// state. Storing cases is the job of the store package; deciding what is allowed is the job
// of this one.
package cases
