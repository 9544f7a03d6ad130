package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// sign makes a token of the raw header and payload JSON, signed with key
// (the signature segment can be replaced after the fact).
func sign(key, header, payload string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(s))
	return s + "." + enc.EncodeToString(mac.Sum(nil))
}

// Verify accepts exactly the tokens PyJWT and the port mint and the forms
// golang-jwt reads the same way, and refuses the rest (API.md §0.5.2,
// vectors.md): each case says whether it is accepted and with which claims.
func TestVerifyAcceptsAndRefuses(t *testing.T) {
	t.Parallel()
	const key = "fast-path-key"
	now := time.Unix(2_000_000_000, 0)
	tok := NewTokens([]byte(key), time.Hour)
	tok.now = func() time.Time { return now }
	const hdr = `{"alg":"HS256","typ":"JWT"}`
	exp, past := now.Unix()+60, now.Unix()
	p := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
	i32 := func(v int32) *int32 { return &v }
	i64 := func(v int64) *int64 { return &v }
	sub := func(s string) *Claims { return &Claims{Subject: s} }
	type tcase struct {
		name, token string
		want        *Claims // nil: refused
	}
	cases := []tcase{
		{"port token", sign(key, hdr, p(`{"exp":%d,"iat":1,"sub":"111111111111","uid":7,"ver":0,"sid":42}`, exp)),
			&Claims{Subject: "111111111111", UserID: i32(7), Version: i32(0), SessionID: i64(42)}},
		{"original token", sign(key, hdr, p(`{"sub":"111111111111","exp":%d}`, exp)), sub("111111111111")},
		{"spaces", sign(key, hdr, p(" {\n\"sub\" : \"1\" ,\t\"exp\":%d } ", exp)), sub("1")},
		{"negative uid, -0 ver", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":-5,"ver":-0}`, exp)),
			&Claims{Subject: "1", UserID: i32(-5), Version: i32(0)}},
		{"integral float uid", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":7.0}`, exp)), &Claims{Subject: "1", UserID: i32(7)}},
		{"nbf now", sign(key, hdr, p(`{"sub":"1","exp":%d,"nbf":%d}`, exp, now.Unix())), sub("1")},
		{"cyrillic sub", sign(key, hdr, p(`{"sub":"Иван","exp":%d}`, exp)), sub("Иван")},
		{"escaped sub", sign(key, hdr, p(`{"sub":"1\u0031","exp":%d}`, exp)), sub("11")},
		{"float exp", sign(key, hdr, p(`{"sub":"1","exp":%d.5}`, exp)), sub("1")},
		{"exponent exp", sign(key, hdr, `{"sub":"1","exp":3e9}`), sub("1")},
		{"duplicate sub: the last", sign(key, hdr, p(`{"sub":"1","sub":"2","exp":%d}`, exp)), sub("2")},
		{"duplicate exp: the last", sign(key, hdr, p(`{"sub":"1","exp":1,"exp":%d}`, exp)), sub("1")},
		{"extra claims ignored", sign(key, hdr, p(`{"sub":"1","exp":%d,"jti":"x","iat":"x","x":{"a":1}}`, exp)), sub("1")},
		{"unsorted header", sign(key, `{"typ":"JWT","alg":"HS256"}`, p(`{"sub":"1","exp":%d}`, exp)), sub("1")},
		{"header with kid", sign(key, `{"alg":"HS256","kid":"k","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), sub("1")},

		{"nbf in the future", sign(key, hdr, p(`{"sub":"1","exp":%d,"nbf":%d}`, exp, exp)), nil},
		{"expired (exp = now)", sign(key, hdr, p(`{"sub":"1","exp":%d}`, past)), nil},
		{"no exp", sign(key, hdr, `{"sub":"1"}`), nil},
		{"string exp", sign(key, hdr, p(`{"sub":"1","exp":"%d"}`, exp)), nil},
		{"leading zero", sign(key, hdr, p(`{"sub":"1","exp":0%d}`, exp)), nil},
		{"empty sub", sign(key, hdr, p(`{"sub":"","exp":%d}`, exp)), nil},
		{"no sub", sign(key, hdr, p(`{"exp":%d}`, exp)), nil},
		{"numeric sub", sign(key, hdr, p(`{"sub":1,"exp":%d}`, exp)), nil},
		{"NUL in sub", sign(key, hdr, p(`{"sub":"1\u0000","exp":%d}`, exp)), nil},
		{"uid beyond int32", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":2147483648}`, exp)), nil},
		{"fractional ver", sign(key, hdr, p(`{"sub":"1","exp":%d,"ver":1.5}`, exp)), nil},
		{"string uid", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":"7"}`, exp)), nil},
		{"sid 0", sign(key, hdr, p(`{"sub":"1","exp":%d,"sid":0}`, exp)), nil},
		{"sid beyond 2^53", sign(key, hdr, p(`{"sub":"1","exp":%d,"sid":9007199254740993}`, exp)), nil},
		{"trailing data", sign(key, hdr, p(`{"sub":"1","exp":%d}x`, exp)), nil},
		{"array payload", sign(key, hdr, `[1]`), nil},
		{"null payload", sign(key, hdr, `null`), nil},
		{"empty object", sign(key, hdr, `{}`), nil},
		{"alg none", sign(key, `{"alg":"none","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), nil},
		{"HS384 header", sign(key, `{"alg":"HS384","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), nil},
		{"other key", sign("other", hdr, p(`{"sub":"1","exp":%d}`, exp)), nil},
		{"four segments", sign(key, hdr, p(`{"sub":"1","exp":%d}`, exp)) + ".x", nil},
		{"two segments", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30", nil},
		{"empty", "", nil},
	}
	good := sign(key, hdr, p(`{"sub":"1","exp":%d}`, exp))
	cases = append(cases, tcase{"padded signature", good + "=", nil})

	for _, tc := range cases {
		got, err := tok.Verify(tc.token)
		switch {
		case tc.want == nil && err == nil:
			t.Errorf("%s: accepted as %+v", tc.name, got)
		case tc.want != nil && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != nil && !reflect.DeepEqual(got, *tc.want):
			t.Errorf("%s: claims %+v, want %+v", tc.name, got, *tc.want)
		}
	}
}

// Tokens minted by Issue verify to what they were issued for.
func TestIssuedTokensVerify(t *testing.T) {
	t.Parallel()
	tok := NewTokens([]byte("k"), time.Hour)
	v := int32(3)
	s, err := tok.Issue(User{ID: 9, IIN: "123456789012", TokenVersion: &v}, 42)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tok.Verify(s)
	if err != nil || c.Subject != "123456789012" || *c.UserID != 9 || *c.Version != 3 || *c.SessionID != 42 {
		t.Fatalf("verify: %+v, %v", c, err)
	}
}

func BenchmarkVerify(b *testing.B) {
	tok := NewTokens([]byte("bench-secret-key-0123456789abcdef"), time.Hour)
	s, err := tok.Issue(User{ID: 9, IIN: "123456789012"}, 42)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tok.Verify(s); err != nil {
			b.Fatal(err)
		}
	}
}
