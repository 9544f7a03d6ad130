package users

import "platform/internal/auth"

// newUser is a validated POST /admin/users body.
type newUser struct {
	IIN      string
	FullName string
	Phone    *string
	Role     auth.Role
	Password string
}
