package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"

	"platform/internal/apperr"
)

// MiB is 1,048,576 bytes (API.md §0.7).
const MiB = 1 << 20

// slack is what multipart framing may add beyond the file limit before a
// Content-Length is refused outright.
const slack = 64 << 10

// maxValue caps each non-file form field.
const maxValue = 64 << 10

// Upload reads a multipart/form-data body as a stream (API.md §0.7): nothing
// is buffered whole, and the byte budget is enforced while reading.
type Upload struct {
	// ctx is the request's: an Upload lives exactly as long as the request
	// it reads, and Save passes ctx to the store so a client gone away
	// stops the upload to a bucket.
	ctx      context.Context
	mr       *multipart.Reader
	tooLarge string
}

// NewUpload starts reading r's multipart body. A Content-Length above
// limit + 64 KiB is refused at once with 413 and the given message; the body
// is also capped at that size while streaming. A body that is not multipart
// yields no parts (the endpoint then reports its missing field as a 422).
func NewUpload(r *http.Request, limit int64, tooLarge string) (*Upload, error) {
	if r.ContentLength > limit+slack {
		return nil, apperr.TooLarge(tooLarge)
	}
	u := &Upload{ctx: r.Context(), tooLarge: tooLarge}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return u, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, limit+slack)
	u.mr = multipart.NewReader(r.Body, params["boundary"])
	return u, nil
}

// Part is one form field being read.
type Part struct {
	*multipart.Part
}

// IsFile reports whether the part carries a filename parameter.
func (p Part) IsFile() bool {
	_, ok := p.filename()
	return ok
}

// ClientName is the part's filename parameter exactly as the client sent it
// ("" when absent). Extension rules (API.md §0.7) apply to this raw value;
// multipart.Part.FileName would first reduce it with filepath.Base.
func (p Part) ClientName() string {
	name, _ := p.filename()
	return name
}

// filename is the raw filename parameter of the part's Content-Disposition.
func (p Part) filename() (string, bool) {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return "", false
	}
	name, ok := params["filename"]
	return name, ok
}

// Next returns the next part, or io.EOF after the last.
func (u *Upload) Next() (Part, error) {
	if u.mr == nil {
		return Part{}, io.EOF
	}
	p, err := u.mr.NextPart()
	if err != nil {
		return Part{}, u.wrap(err)
	}
	return Part{p}, nil
}

// Value reads a non-file field, capped at 64 KiB (413 beyond it).
func (u *Upload) Value(p Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, maxValue+1))
	if err != nil {
		return "", u.wrap(err)
	}
	if len(b) > maxValue {
		return "", apperr.TooLarge(u.tooLarge)
	}
	return string(b), nil
}

// Save streams a file part to rel in the store, at most limit bytes (413 beyond).
func (u *Upload) Save(s Store, p Part, rel string, limit int64) (int64, error) {
	return u.SaveReader(s, p, rel, limit)
}

// Peek reads up to n leading bytes of a part, so its content can be checked
// (e.g. sniffed) before anything is written, and returns them with a reader
// that yields the whole content again, for SaveReader or CopyTo.
func (u *Upload) Peek(p Part, n int) ([]byte, io.Reader, error) {
	head := make([]byte, n)
	got, err := io.ReadFull(p, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, nil, u.wrap(err)
	}
	head = head[:got]
	return head, io.MultiReader(bytes.NewReader(head), p), nil
}

// SaveReader is Save for a part's content as returned by Peek.
func (u *Upload) SaveReader(s Store, src io.Reader, rel string, limit int64) (int64, error) {
	n, err := s.Save(u.ctx, rel, src, limit)
	if err != nil {
		return n, u.wrap(err)
	}
	return n, nil
}

// CopyTo streams a part's content (or Peek's reader) to w, at most limit
// bytes (413 with the upload's message beyond), mapping read failures as
// Save does; for content that goes elsewhere than the static root, such as a
// temporary file to parse.
func (u *Upload) CopyTo(w io.Writer, src io.Reader, limit int64) (int64, error) {
	in := &readErrs{r: io.LimitReader(src, limit+1)}
	n, err := io.Copy(w, in)
	switch {
	case in.err != nil:
		return n, u.wrap(in.err)
	case err != nil:
		return n, fmt.Errorf("storage: copy upload: %w", err)
	case n > limit:
		return n, apperr.TooLarge(u.tooLarge)
	}
	return n, nil
}

// Drain reads the rest of a part (e.g. an ignored field), within the body cap.
func (u *Upload) Drain(p Part) error {
	_, err := io.Copy(io.Discard, p)
	return u.wrap(err)
}

// NextFile skips to the file field named name; its absence is FastAPI's
// 422. Skipped non-file fields still keep the 64 KiB cap of API.md §0.7.
func (u *Upload) NextFile(name string) (Part, error) {
	for {
		p, err := u.Next()
		if err == io.EOF {
			return Part{}, apperr.Invalid(apperr.Missing([]any{"body", name}, nil))
		}
		if err != nil {
			return Part{}, err
		}
		if p.FormName() == name && p.IsFile() {
			return p, nil
		}
		if p.IsFile() {
			err = u.Drain(p)
		} else {
			_, err = u.Value(p)
		}
		if err != nil {
			return Part{}, err
		}
	}
}

// wrap maps reading failures: over the cap → 413 with the upload's message;
// a broken multipart stream → 400.
func (u *Upload) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) || errors.Is(err, ErrTooLarge) {
		return apperr.TooLarge(u.tooLarge)
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	var malformed textproto.ProtocolError // e.g. a control character in a part header
	if strings.Contains(err.Error(), "multipart") || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &malformed) {
		return &apperr.Error{Kind: apperr.KindBadRequest, Detail: "Некорректные данные формы", Err: err}
	}
	return fmt.Errorf("storage: read upload: %w", err)
}
