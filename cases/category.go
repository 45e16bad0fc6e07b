package cases

import (
	"errors"
	"fmt"
	"time"
)

// Priority says how urgently a case must be handled.
type Priority string

// Priorities, from least to most urgent.
const (
	PriorityLow      Priority = "low"
	PriorityNormal   Priority = "normal"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

// Priorities lists every priority from least to most urgent.
func Priorities() []Priority {
	return []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityCritical}
}

// Rank orders priorities for sorting: low 1, normal 2, high 3, critical 4. An unknown
// priority ranks 0, below all known ones.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 1
	case PriorityNormal:
		return 2
	case PriorityHigh:
		return 3
	case PriorityCritical:
		return 4
	}
	return 0
}

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return p.Rank() > 0 }

// Category codes. The database is seeded with these codes and the defaults of
// [DefaultCategories]; operators may change the deadlines there.
const (
	CategoryFeedback             = "feedback"
	CategoryInformationRequest   = "information_request"
	CategoryAssistanceRequest    = "assistance_request"
	CategoryMinorDissatisfaction = "minor_dissatisfaction"
	CategoryMajorDissatisfaction = "major_dissatisfaction"
	// CategorySEA is sexual exploitation and abuse (PSEA).
	CategorySEA             = "sea"
	CategoryMisconductFraud = "misconduct_fraud"
	CategorySafetySecurity  = "safety_security"
	CategoryOutOfScope      = "out_of_scope"
	CategoryOther           = "other"
)

// Category is a kind of case with its handling rules: how urgent it is, how many hours
// staff have to acknowledge it to the person, to refer it to whoever can act on it and to
// resolve it, and whether it is sensitive.
//
// Sensitive cases (sexual exploitation and abuse, misconduct and fraud, safety and
// security) are seen only by the staff designated for them and are never shown in shared
// lists or reports with their details.
type Category struct {
	Code         string
	Priority     Priority
	AckHours     int
	ReferHours   int
	ResolveHours int
	Sensitive    bool
}

// DefaultCategories returns the categories Sawt starts with, in a stable order. Each call
// returns a new slice that the caller may modify.
func DefaultCategories() []Category {
	return []Category{
		{Code: CategoryFeedback, Priority: PriorityLow, AckHours: 72, ReferHours: 168, ResolveHours: 720},
		{Code: CategoryInformationRequest, Priority: PriorityNormal, AckHours: 24, ReferHours: 48, ResolveHours: 72},
		{Code: CategoryAssistanceRequest, Priority: PriorityNormal, AckHours: 24, ReferHours: 72, ResolveHours: 336},
		{Code: CategoryMinorDissatisfaction, Priority: PriorityNormal, AckHours: 24, ReferHours: 72, ResolveHours: 336},
		{Code: CategoryMajorDissatisfaction, Priority: PriorityHigh, AckHours: 24, ReferHours: 48, ResolveHours: 168},
		{Code: CategorySEA, Priority: PriorityCritical, AckHours: 24, ReferHours: 24, ResolveHours: 168, Sensitive: true},
		{Code: CategoryMisconductFraud, Priority: PriorityHigh, AckHours: 24, ReferHours: 48, ResolveHours: 168, Sensitive: true},
		{Code: CategorySafetySecurity, Priority: PriorityCritical, AckHours: 4, ReferHours: 24, ResolveHours: 72, Sensitive: true},
		{Code: CategoryOutOfScope, Priority: PriorityLow, AckHours: 72, ReferHours: 168, ResolveHours: 336},
		{Code: CategoryOther, Priority: PriorityNormal, AckHours: 24, ReferHours: 72, ResolveHours: 336},
	}
}

// Deadlines returns when a case of this category created at created must be acknowledged,
// referred and resolved. Hours are elapsed clock hours, not working hours.
func (c Category) Deadlines(created time.Time) (ack, refer, resolve time.Time) {
	return created.Add(time.Duration(c.AckHours) * time.Hour),
		created.Add(time.Duration(c.ReferHours) * time.Hour),
		created.Add(time.Duration(c.ResolveHours) * time.Hour)
}

// AckDays is the acknowledgement deadline in whole days, rounded up and at least 1: what
// the person is told ("we will reply within N days").
func (c Category) AckDays() int {
	return max(1, (c.AckHours+23)/24)
}

// ErrCategory is wrapped by every error from [Category.Validate].
var ErrCategory = errors.New("invalid category")

// Validate checks that c is usable: a code, a known priority, deadlines that are all
// positive and in order (acknowledge no later than refer, refer no later than resolve).
func (c Category) Validate() error {
	switch {
	case c.Code == "":
		return fmt.Errorf("%w: empty code", ErrCategory)
	case !c.Priority.Valid():
		return fmt.Errorf("%w %q: unknown priority %q", ErrCategory, c.Code, c.Priority)
	case c.AckHours <= 0 || c.ReferHours <= 0 || c.ResolveHours <= 0:
		return fmt.Errorf("%w %q: deadlines must be positive (ack %dh, refer %dh, resolve %dh)",
			ErrCategory, c.Code, c.AckHours, c.ReferHours, c.ResolveHours)
	case c.AckHours > c.ReferHours || c.ReferHours > c.ResolveHours:
		return fmt.Errorf("%w %q: deadlines must be in order ack <= refer <= resolve (ack %dh, refer %dh, resolve %dh)",
			ErrCategory, c.Code, c.AckHours, c.ReferHours, c.ResolveHours)
	}
	return nil
}
