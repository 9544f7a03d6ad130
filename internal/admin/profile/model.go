package profile

import "platform/internal/auth"

// userOut is the "UserOut" shape of API.md §0.11.
type userOut struct {
	ID       int32  `json:"id" db:"id"`
	IIN      string `json:"iin" db:"iin"`
	FullName string `json:"full_name" db:"full_name"`
}

// userEnvelope is the {"user": UserBlock} answer of the /user endpoints.
type userEnvelope struct {
	User auth.UserBlock `json:"user"`
}

// message is the {"message": "…"} success body.
type message struct {
	Message string `json:"message"`
}
