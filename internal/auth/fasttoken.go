package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// hs256Header is the header segment of every HS256 token the port
// (golang-jwt) and the original (PyJWT, sorted keys) mint:
// base64url of {"alg":"HS256","typ":"JWT"}.
const hs256Header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

// macs are keyed HMAC-SHA256 states for t.key, reused across requests
// (hmac.New derives the inner and outer pads on every call).
type macPool struct{ p sync.Pool }

func (t *Tokens) mac() hash.Hash {
	t.macOnce.Do(func() {
		key := t.key
		t.macs.p.New = func() any { return hmac.New(sha256.New, key) }
	})
	return t.macs.p.Get().(hash.Hash)
}

// verifyFast accepts a token only if golang-jwt (verifySlow) would accept
// it with the same claims, and only for the common form: the canonical
// header above, a valid signature, and a payload that is a flat JSON
// object of sub (a string without escapes) and integer exp, iat, nbf, uid,
// ver, sid, each at most once. Anything else — other headers or claims,
// escapes, fractions, duplicates, an expired or refused token — gives
// ok = false and goes to verifySlow, so acceptance and every refusal stay
// exactly golang-jwt's. The same checks as golang-jwt's:
//   - signature: base64.RawURLEncoding (non-strict, as golang-jwt decodes)
//     compared with hmac.Equal;
//   - exp required, now < exp; nbf, when present, now ≥ nbf; iat not
//     checked (no WithIssuedAt);
//   - sub a non-empty string; uid and ver integers within int32, sid within
//     [1, 2^53) (intClaim).
func (t *Tokens) verifyFast(token string) (Claims, bool) {
	header, rest, ok := strings.Cut(token, ".")
	if !ok || header != hs256Header {
		return Claims{}, false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 || len(sig) > 64 || len(payload) > 1024 {
		return Claims{}, false
	}
	var sigBuf [48]byte
	n, err := base64.RawURLEncoding.Decode(sigBuf[:], []byte(sig))
	if err != nil || n != sha256.Size {
		return Claims{}, false
	}
	mac := t.mac()
	mac.Reset()
	mac.Write([]byte(token[:len(header)+1+len(payload)]))
	var sumBuf [sha256.Size]byte
	valid := hmac.Equal(mac.Sum(sumBuf[:0]), sigBuf[:n])
	t.macs.p.Put(mac)
	if !valid {
		return Claims{}, false
	}
	var jsonBuf [768]byte
	n, err = base64.RawURLEncoding.Decode(jsonBuf[:], []byte(payload))
	if err != nil {
		return Claims{}, false
	}
	pc, ok := parseFlatClaims(jsonBuf[:n])
	if !ok || !pc.has[claimExp] || pc.sub == "" {
		return Claims{}, false
	}
	now := t.now()
	if !now.Before(time.Unix(pc.num[claimExp], 0)) {
		return Claims{}, false
	}
	if pc.has[claimNbf] && now.Before(time.Unix(pc.num[claimNbf], 0)) {
		return Claims{}, false
	}
	c := Claims{Subject: pc.sub}
	if pc.has[claimSid] {
		sid := pc.num[claimSid]
		if sid < 1 || sid > maxSessionID {
			return Claims{}, false
		}
		c.SessionID = &sid
	}
	for _, k := range []int{claimUID, claimVer} {
		if !pc.has[k] {
			continue
		}
		v := pc.num[k]
		if v < -1<<31 || v > 1<<31-1 {
			return Claims{}, false
		}
		n := int32(v)
		if k == claimUID {
			c.UserID = &n
		} else {
			c.Version = &n
		}
	}
	return c, true
}

// The integer claims parseFlatClaims knows, by index.
const (
	claimExp = iota
	claimIat
	claimNbf
	claimUID
	claimVer
	claimSid
	numClaims
)

var claimNames = [numClaims]string{"exp", "iat", "nbf", "uid", "ver", "sid"}

// flatClaims is what parseFlatClaims read.
type flatClaims struct {
	sub    string
	hasSub bool
	has    [numClaims]bool
	num    [numClaims]int64
}

// parseFlatClaims reads the payload when it is the simple JSON object
// verifyFast handles; ok = false for anything else (not a refusal: the
// caller falls back to encoding/json by way of golang-jwt).
func parseFlatClaims(b []byte) (c flatClaims, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return c, skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok {
			return c, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = skipSpace(b, i+1)
		if key == "sub" {
			if c.hasSub {
				return c, false
			}
			if c.sub, next, ok = plainString(b, i); !ok {
				return c, false
			}
			c.hasSub = true
		} else {
			k := -1
			for j, name := range claimNames {
				if key == name {
					k = j
				}
			}
			if k < 0 || c.has[k] {
				return c, false
			}
			if c.num[k], next, ok = plainInt(b, i); !ok {
				return c, false
			}
			c.has[k] = true
		}
		i = skipSpace(b, next)
		if i >= len(b) {
			return c, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return c, skipSpace(b, i+1) == len(b)
		default:
			return c, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] that encoding/json would decode
// to its bytes unchanged: no escapes, no control characters, valid UTF-8.
func plainString(b []byte, i int) (s string, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			raw := b[i+1 : j]
			if !utf8.Valid(raw) {
				return "", 0, false
			}
			return string(raw), j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

// plainInt reads a JSON integer of at most 15 digits at b[i] (exact as the
// float64 encoding/json makes of it); a fraction or exponent is not plain.
func plainInt(b []byte, i int) (n int64, next int, ok bool) {
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 15 || (digits > 1 && b[start] == '0') {
		return 0, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}
