package auth

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The /auth/check body is appended by hand; it must be what encoding/json
// writes for the documented shape.
func TestAppendCheckMatchesEncodingJSON(t *testing.T) {
	type checkUser struct {
		IIN  string `json:"iin"`
		Role Role   `json:"role"`
	}
	type checkResponse struct {
		Status             string    `json:"status"`
		User               checkUser `json:"user"`
		MustChangePassword bool      `json:"must_change_password"`
	}
	for _, u := range []User{
		{IIN: "700000000001", Role: Student},
		{IIN: "800000000001", Role: Teacher, MustChangePassword: true},
		{IIN: `0"\<>&` + "\u2028\x01", Role: Admin}, // no real IIN looks so; the encoder must not care
	} {
		// As web.JSON writes it: HTML escaping off, no trailing newline.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(checkResponse{Status: "ok", User: checkUser{IIN: u.IIN, Role: u.Role}, MustChangePassword: u.MustChangePassword}); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendCheck(nil, u); string(got) != string(want) {
			t.Errorf("appendCheck(%+v)\n got %s\nwant %s", u, got, want)
		}
	}
}
