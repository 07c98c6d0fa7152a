package views

import (
	"strconv"
	"time"

	"github.com/luxstudio/lux-billing/billing/identity"
)

// Account is /settings/account: the signed-in user's password and sessions.
type Account struct {
	Shell
	// Field is the input the error is about ("current", "password" or "confirm"); Error is
	// shown under it (or above the form when Field is "").
	Field string
	Error string
}

// Fields of the password form, as its inputs are named.
const (
	FieldCurrent  = "current"
	FieldPassword = "password"
	FieldConfirm  = "confirm"
)

// Members is /settings/members: the people of the organization; admins remove them.
type Members struct {
	Shell
	Members []identity.Member
	UserID  string // the signed-in user
	Loc     *time.Location
	Now     time.Time
}

// RemoveMemberPath is where the form removing user id from the organization posts.
func RemoveMemberPath(userID string) string {
	return PathMembers + "/" + escapeSegment(userID) + "/remove"
}

// adminCount says how many admins members holds, for the list's heading.
func adminCount(members []identity.Member) string {
	n := 0
	for _, m := range members {
		if m.IsAdmin() {
			n++
		}
	}
	people := strconv.Itoa(len(members)) + " people"
	if len(members) == 1 {
		people = "1 person"
	}
	if n == 1 {
		return people + " · 1 admin"
	}
	return people + " · " + strconv.Itoa(n) + " admins"
}
