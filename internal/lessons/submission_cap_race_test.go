package lessons_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Issue 23: parallel submits at the cap. Every request is held until all of
// them have passed the check made before the body is read, so only the
// check in the transaction (under the lock) stands between them and the cap:
// exactly the free places succeed, the rest get the cap's 400, and a refused
// submit leaves neither a row nor a file.
func TestSubmissionCapParallel(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const limit, free, parallel = 20, 3, 8
	for range limit - free {
		f.submission(t, f.lessonID, f.student.ID)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// With Expect: 100-continue the client sends the body only once the
	// handler starts reading it, that is once it is past the first check.
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	var reading sync.WaitGroup
	reading.Add(parallel)
	gate := make(chan struct{})
	go func() {
		reading.Wait()
		close(gate)
	}()

	type result struct {
		code int
		body string
		err  error
	}
	results := make([]result, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		var once sync.Once
		ready := func() { once.Do(reading.Done) }
		body, contentType := homeworkBody(t, fmt.Sprintf("работа-%d.txt", i))
		wg.Go(func() {
			defer ready() // answered without reading the body: do not hold the others
			req, err := http.NewRequestWithContext(ctx, "POST", f.env.Server.URL+fmt.Sprintf("/lessons/%d/submit-homework", f.lessonID),
				&gatedReader{r: body, ready: ready, gate: gate, ctx: ctx})
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", "Bearer "+f.student.Token)
			req.Header.Set("Expect", "100-continue")
			res, err := client.Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			results[i] = result{code: res.StatusCode, body: string(b), err: err}
		})
	}
	wg.Wait()

	ok, refused := 0, 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("submit %d: %v", i, r.err)
		case r.code == 200:
			ok++
		case r.code == 400 && r.body == fmt.Sprintf(`{"detail":"Можно отправить не более %d работ к одному уроку"}`, limit):
			refused++
		default:
			t.Errorf("submit %d: %d %s", i, r.code, r.body)
		}
	}
	if ok != free || refused != parallel-free {
		t.Errorf("%d accepted and %d refused, want %d and %d", ok, refused, free, parallel-free)
	}
	if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1 AND user_id = $2`, f.lessonID, f.student.ID); n != limit {
		t.Errorf("%d submissions stored, want the cap, %d", n, limit)
	}
	if n := f.env.Count(t, `SELECT count(*) FROM submission_files sf JOIN lesson_submissions s ON s.id = sf.submission_id
		WHERE s.lesson_id = $1`, f.lessonID); n != free {
		t.Errorf("%d file rows, want %d", n, free)
	}
	if files := f.files(t, fmt.Sprintf("homework/lesson_%d", f.lessonID)); len(files) != free {
		t.Errorf("files on disk %v, want %d (a refused submit's file removed)", files, free)
	}
}

// homeworkBody is a submit-homework form with one small file.
func homeworkBody(t *testing.T, name string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("files", name)
	if err == nil {
		_, err = io.WriteString(w, "решение "+name)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

// gatedReader calls ready on its first Read, then gives nothing until the
// gate opens (or ctx ends).
type gatedReader struct {
	r     io.Reader
	ready func()
	gate  <-chan struct{}
	ctx   context.Context
	open  bool
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if !g.open {
		g.ready()
		select {
		case <-g.gate:
		case <-g.ctx.Done():
			return 0, g.ctx.Err()
		}
		g.open = true
	}
	return g.r.Read(p)
}
