package cases

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusNew, StatusAcknowledged}:        true,
		{StatusAcknowledged, StatusReferred}:   true,
		{StatusAcknowledged, StatusInProgress}: true,
		{StatusReferred, StatusInProgress}:     true,
		{StatusReferred, StatusResolved}:       true,
		{StatusInProgress, StatusReferred}:     true,
		{StatusInProgress, StatusResolved}:     true,
		{StatusResolved, StatusClosed}:         true,
		{StatusResolved, StatusInProgress}:     true,
	}
	all := append(Statuses(), "", "open", "New")
	n := 0
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%q, %q) = %v; want %v", from, to, got, want)
			}
			err := CheckTransition(from, to)
			if want {
				n++
				if err != nil {
					t.Errorf("CheckTransition(%q, %q) = %v", from, to, err)
				}
				continue
			}
			if !errors.Is(err, ErrTransition) {
				t.Errorf("CheckTransition(%q, %q) = %v; want ErrTransition", from, to, err)
			} else if msg := `cannot move a case from "` + string(from) + `" to "` + string(to) + `"`; !strings.Contains(err.Error(), msg) {
				t.Errorf("CheckTransition(%q, %q) message %q lacks %q", from, to, err, msg)
			}
		}
	}
	if n != len(allowed) {
		t.Errorf("%d allowed transitions passed; want %d", n, len(allowed))
	}
}

func TestStatuses(t *testing.T) {
	st := Statuses()
	if len(st) != 6 || st[0] != StatusNew || st[5] != StatusClosed {
		t.Fatalf("Statuses() = %v", st)
	}
	for _, s := range st {
		if !s.Valid() {
			t.Errorf("%q not valid", s)
		}
	}
	for _, s := range []Status{"", "open", "Closed", "in-progress"} {
		if s.Valid() {
			t.Errorf("%q valid", s)
		}
	}
	for _, to := range st {
		if CanTransition(StatusClosed, to) {
			t.Errorf("closed case can move to %q", to)
		}
	}
}
