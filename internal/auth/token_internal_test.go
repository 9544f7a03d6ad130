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

// The fast path never changes an answer: for every token, Verify (fast
// path first) and verifySlow (golang-jwt only) agree on acceptance and
// claims, and the fast path is what accepts the common forms.
func TestFastVerifyAgreesWithGolangJWT(t *testing.T) {
	t.Parallel()
	const key = "fast-path-key"
	now := time.Unix(2_000_000_000, 0)
	tok := NewTokens([]byte(key), time.Hour)
	tok.now = func() time.Time { return now }
	const hdr = `{"alg":"HS256","typ":"JWT"}`
	exp, past := now.Unix()+60, now.Unix()
	p := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
	cases := []struct {
		name, token string
		fast        bool // the fast path must accept it
	}{
		{"port token", sign(key, hdr, p(`{"exp":%d,"iat":1,"sub":"111111111111","uid":7,"ver":0}`, exp)), true},
		{"original token", sign(key, hdr, p(`{"sub":"111111111111","exp":%d}`, exp)), true},
		{"spaces", sign(key, hdr, p(" {\n\"sub\" : \"1\" ,\t\"exp\":%d } ", exp)), true},
		{"negative uid, -0 ver", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":-5,"ver":-0}`, exp)), true},
		{"nbf now", sign(key, hdr, p(`{"sub":"1","exp":%d,"nbf":%d}`, exp, now.Unix())), true},
		{"cyrillic sub", sign(key, hdr, p(`{"sub":"Иван","exp":%d}`, exp)), true},
		{"nbf in the future", sign(key, hdr, p(`{"sub":"1","exp":%d,"nbf":%d}`, exp, exp)), false},
		{"expired (exp = now)", sign(key, hdr, p(`{"sub":"1","exp":%d}`, past)), false},
		{"no exp", sign(key, hdr, `{"sub":"1"}`), false},
		{"empty sub", sign(key, hdr, p(`{"sub":"","exp":%d}`, exp)), false},
		{"no sub", sign(key, hdr, p(`{"exp":%d}`, exp)), false},
		{"numeric sub", sign(key, hdr, p(`{"sub":1,"exp":%d}`, exp)), false},
		{"escaped sub", sign(key, hdr, p(`{"sub":"1\u0031","exp":%d}`, exp)), false},
		{"invalid UTF-8 sub", sign(key, hdr, p("{\"sub\":\"\xff\",\"exp\":%d}", exp)), false},
		{"float exp", sign(key, hdr, p(`{"sub":"1","exp":%d.5}`, exp)), false},
		{"exponent exp", sign(key, hdr, `{"sub":"1","exp":3e9}`), false},
		{"string exp", sign(key, hdr, p(`{"sub":"1","exp":"%d"}`, exp)), false},
		{"leading zero", sign(key, hdr, p(`{"sub":"1","exp":0%d}`, exp)), false},
		{"uid beyond int32", sign(key, hdr, p(`{"sub":"1","exp":%d,"uid":2147483648}`, exp)), false},
		{"fractional ver", sign(key, hdr, p(`{"sub":"1","exp":%d,"ver":1.5}`, exp)), false},
		{"duplicate sub", sign(key, hdr, p(`{"sub":"1","sub":"2","exp":%d}`, exp)), false},
		{"duplicate exp", sign(key, hdr, p(`{"sub":"1","exp":1,"exp":%d}`, exp)), false},
		{"extra claim", sign(key, hdr, p(`{"sub":"1","exp":%d,"jti":"x"}`, exp)), false},
		{"nested", sign(key, hdr, p(`{"sub":"1","exp":%d,"x":{"a":1}}`, exp)), false},
		{"trailing data", sign(key, hdr, p(`{"sub":"1","exp":%d}x`, exp)), false},
		{"array payload", sign(key, hdr, `[1]`), false},
		{"null payload", sign(key, hdr, `null`), false},
		{"empty object", sign(key, hdr, `{}`), false},
		{"unsorted header", sign(key, `{"typ":"JWT","alg":"HS256"}`, p(`{"sub":"1","exp":%d}`, exp)), false},
		{"header with kid", sign(key, `{"alg":"HS256","kid":"k","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), false},
		{"alg none", sign(key, `{"alg":"none","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), false},
		{"HS384 header", sign(key, `{"alg":"HS384","typ":"JWT"}`, p(`{"sub":"1","exp":%d}`, exp)), false},
		{"other key", sign("other", hdr, p(`{"sub":"1","exp":%d}`, exp)), false},
		{"four segments", sign(key, hdr, p(`{"sub":"1","exp":%d}`, exp)) + ".x", false},
		{"two segments", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30", false},
		{"empty", "", false},
	}
	// A signature with non-zero trailing bits decodes (non-strict) to the
	// same bytes: both must accept it.
	good := sign(key, hdr, p(`{"sub":"1","exp":%d}`, exp))
	last := good[len(good)-1]
	alt := map[byte]byte{'A': 'B', 'Q': 'R', 'g': 'h', 'w': 'x'}[last]
	if alt != 0 {
		cases = append(cases, struct {
			name, token string
			fast        bool
		}{"non-canonical signature bits", good[:len(good)-1] + string(alt), true})
	}
	cases = append(cases, struct {
		name, token string
		fast        bool
	}{"padded signature", good + "=", false})

	for _, tc := range cases {
		got, gotErr := tok.Verify(tc.token)
		want, wantErr := tok.verifySlow(tc.token)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Verify = %+v, %v; golang-jwt = %+v, %v", tc.name, got, gotErr, want, wantErr)
		}
		if _, ok := tok.verifyFast(tc.token); ok != tc.fast {
			t.Errorf("%s: fast path ok = %v, want %v", tc.name, ok, tc.fast)
		}
	}
}

// Tokens minted by Issue take the fast path.
func TestIssuedTokensTakeTheFastPath(t *testing.T) {
	t.Parallel()
	tok := NewTokens([]byte("k"), time.Hour)
	v := int32(3)
	s, err := tok.Issue(User{ID: 9, IIN: "123456789012", TokenVersion: &v}, 42)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := tok.verifyFast(s)
	if !ok || c.Subject != "123456789012" || *c.UserID != 9 || *c.Version != 3 {
		t.Fatalf("fast path: %+v, %v", c, ok)
	}
}

func BenchmarkVerify(b *testing.B) {
	tok := NewTokens([]byte("bench-secret-key-0123456789abcdef"), time.Hour)
	s, err := tok.Issue(User{ID: 9, IIN: "123456789012"}, 42)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tok.Verify(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tok.verifySlow(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
