package groups

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Imported accounts' passwords (issue 21). An IIN is known to classmates
// and teachers, so by default an import gives each new account a random
// one-time password instead of the IIN-derived one. The passwords are shown
// once: in upload-excel's answer, and as a credentials sheet an admin
// downloads once (GET /admin/groups/imports/{id}/credentials.xlsx). Between
// the import and that download they are kept encrypted (AES-256-GCM, a key
// derived from SECRET_KEY, the import id as associated data) in
// import_jobs.credentials, wiped by the download or after credentialsTTL
// (the sweep job, and every read checks the TTL). Never logged.

// credentialsTTL is how long an import's one-time passwords stay readable.
const credentialsTTL = time.Hour

// otpAlphabet has no look-alikes (0/O, 1/l/I), for a printed sheet.
const otpAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// otpLength: 10 characters of 56 are about 58 bits.
const otpLength = 10

// oneTimePassword is a random password for a new imported account, each
// character uniform over otpAlphabet.
func oneTimePassword() string {
	b := make([]byte, otpLength)
	max := big.NewInt(int64(len(otpAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail (Go 1.24+)
		}
		b[i] = otpAlphabet[n.Int64()]
	}
	return string(b)
}

// IINPassword is the legacy default password of an imported account: the
// first 3 and last 3 digits of the IIN (unsafe: see UNSAFE_IIN_PASSWORDS).
func IINPassword(iin string) string {
	if len(iin) < 6 {
		return ""
	}
	return iin[:3] + iin[len(iin)-3:]
}

// credential is one new account's one-time login, as the sheet lists it.
type credential struct {
	IIN      string `json:"iin"`
	FullName string `json:"full_name"`
	Password string `json:"password"`
}

// sealer encrypts credentials at rest with a key derived from SECRET_KEY.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) sealer {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("platform/import-credentials/v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return sealer{aead: aead}
}

func aad(importID int32) []byte {
	return binary.BigEndian.AppendUint32([]byte("import:"), uint32(importID))
}

func (s sealer) seal(importID int32, creds []credential) ([]byte, error) {
	plain, err := json.Marshal(creds)
	if err != nil {
		return nil, fmt.Errorf("admin: encode credentials: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, aad(importID)), nil
}

func (s sealer) open(importID int32, sealed []byte) ([]credential, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("admin: credentials: too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad(importID))
	if err != nil {
		return nil, fmt.Errorf("admin: credentials: %w", err)
	}
	var creds []credential
	if err := json.Unmarshal(plain, &creds); err != nil {
		return nil, fmt.Errorf("admin: credentials: %w", err)
	}
	return creds, nil
}
