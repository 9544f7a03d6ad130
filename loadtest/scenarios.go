package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"
)

// student is the IIN of seeded student i (1-based).
func student(i int) string { return fmt.Sprintf("7%011d", i) }

func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: 120 * time.Second}
}

// collector gathers samples from many goroutines.
type collector struct {
	mu  sync.Mutex
	all []sample
}

func (c *collector) add(s sample) {
	c.mu.Lock()
	c.all = append(c.all, s)
	c.mu.Unlock()
}

// pct is the p-quantile (0–1) of durs, in milliseconds.
func pct(durs []time.Duration, p float64) float64 {
	if len(durs) == 0 {
		return 0
	}
	d := slices.Clone(durs)
	slices.Sort(d)
	return float64(d[int(p*float64(len(d)-1)+0.5)].Microseconds()) / 1000
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// original is the original's Locust scenario exactly: every virtual user
// logs in at once with ONE account (a failed login is a failure, no retry),
// then loops over the reads with 1–3 s pauses.
func original(ctx context.Context, o options) error {
	client := newClient(o.originalUsers)
	var weighted []int
	for i, s := range scenario {
		for range s.weight {
			weighted = append(weighted, i)
		}
	}
	var c collector
	startGate := make(chan struct{})
	deadline := time.Now().Add(o.duration)
	var wg sync.WaitGroup
	for range o.originalUsers {
		wg.Go(func() {
			<-startGate
			token, s := login(ctx, client, o.base, student(1), o.password, "")
			c.add(s)
			if s.code != http.StatusOK {
				return
			}
			for time.Now().Before(deadline) {
				sc := scenario[weighted[rand.IntN(len(weighted))]]
				tok := ""
				if sc.auth {
					tok = token
				}
				c.add(get(ctx, client, sc.name, o.base+sc.path, tok))
				time.Sleep(time.Second + rand.N(2*time.Second))
			}
		})
	}
	start := time.Now()
	close(startGate)
	wg.Wait()
	var logins []time.Duration
	ok := 0
	for _, s := range c.all {
		if s.name == "POST /auth/login" {
			logins = append(logins, s.dur)
			if s.code == http.StatusOK && s.err == nil {
				ok++
			}
		}
	}
	fmt.Printf("%d concurrent logins of one account: %d × 200; p50 %.0f ms, max %.0f ms\n",
		o.originalUsers, ok, pct(logins, 0.5), pct(logins, 1))
	return report(c.all, time.Since(start), false)
}

// oneLogin is an idle login's time: the median of three sequential logins.
func oneLogin(ctx context.Context, client *http.Client, o options, first int) (time.Duration, error) {
	var durs []time.Duration
	for i := range 3 {
		_, s := login(ctx, client, o.base, student(first+i), o.password, "")
		if s.err != nil || s.code != http.StatusOK {
			return 0, fmt.Errorf("idle login: %d %v", s.code, s.err)
		}
		durs = append(durs, s.dur)
	}
	slices.Sort(durs)
	return durs[1], nil
}

// classroom: 60 distinct students log in at the same instant.
func classroom(ctx context.Context, o options) error {
	const n = 60
	client := newClient(n)
	one, err := oneLogin(ctx, client, o, 61)
	if err != nil {
		return err
	}
	var c collector
	startGate := make(chan struct{})
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			<-startGate
			_, s := login(ctx, client, o.base, student(i), o.password, "")
			c.add(s)
		})
	}
	start := time.Now()
	close(startGate)
	wg.Wait()
	wall := time.Since(start)
	cores := runtime.NumCPU()
	bound := time.Duration(1.3 * float64(n) * float64(one) / float64(cores))
	codes := map[int]int{}
	var durs []time.Duration
	for _, s := range c.all {
		codes[s.code]++
		durs = append(durs, s.dur)
	}
	fmt.Printf("60 distinct logins at once: statuses %v; wall %.0f ms; one idle login %.0f ms; "+
		"60 × one ÷ %d cores = %.0f ms (ratio %.2f, goal ≤ 1.3: bound %.0f ms); p50 %.0f ms, p99 %.0f ms\n",
		codes, ms(wall), ms(one), cores, ms(one)*n/float64(cores), float64(wall)/(float64(one)*n/float64(cores)),
		ms(bound), pct(durs, 0.5), pct(durs, 0.99))
	if codes[http.StatusOK] != n {
		return fmt.Errorf("%d of %d logins failed", n-codes[http.StatusOK], n)
	}
	return nil
}

// flood: 12 connections send /auth/token with random usernames from one
// address for 15 s, while a legitimate login from another address starts
// every 500 ms.
func flood(ctx context.Context, o options) error {
	const conns, length = 12, 15 * time.Second
	client := newClient(conns + 40)
	deadline := time.Now().Add(length)
	var mu sync.Mutex
	floodCodes := map[int]int{}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				form := url.Values{"username": {fmt.Sprintf("%012d", rand.Int64N(1e12))}, "password": {"guess"}}
				req, _ := http.NewRequestWithContext(ctx, "POST", o.base+"/auth/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", "10.9.0.1")
				code := 0
				if res, err := client.Do(req); err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					code = res.StatusCode
				}
				mu.Lock()
				floodCodes[code]++
				mu.Unlock()
			}
		})
	}
	var legit collector
	tick := time.NewTicker(500 * time.Millisecond)
	for k := 0; time.Now().Before(deadline); k++ {
		<-tick.C
		wg.Go(func() {
			_, s := login(ctx, client, o.base, student(61+k%30), o.password, fmt.Sprintf("10.8.0.%d", k%250+1))
			legit.add(s)
		})
	}
	tick.Stop()
	wg.Wait()
	okN := 0
	var durs []time.Duration
	codes := map[int]int{}
	for _, s := range legit.all {
		codes[s.code]++
		durs = append(durs, s.dur)
		if s.code == http.StatusOK && s.err == nil {
			okN++
		}
	}
	ratio := float64(okN) / float64(len(legit.all))
	fmt.Printf("flood (12 connections, 15 s, one address): statuses %v\n", floodCodes)
	fmt.Printf("legitimate logins from other addresses: %d of %d succeeded (%.0f %%, goal ≥ 95 %%), statuses %v, p50 %.0f ms, p99 %.0f ms\n",
		okN, len(legit.all), 100*ratio, codes, pct(durs, 0.5), pct(durs, 0.99))
	if ratio < 0.95 {
		return fmt.Errorf("only %.0f %% of legitimate logins succeeded", 100*ratio)
	}
	return nil
}

// roster builds a workbook of n new students of the group; iinPrefix keeps
// the IINs apart from the seeded ones.
func roster(group string, iinPrefix byte, n int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	if err := sw.SetRow("A1", []any{"Группа", "ИИН", "ФИО"}); err != nil {
		return nil, err
	}
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{group, fmt.Sprintf("%c%011d", iinPrefix, i+1), fmt.Sprintf("Импортов Студент %d", i+1)}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// upload posts the workbook to upload-excel.
func upload(ctx context.Context, client *http.Client, o options, token string, file []byte) (int, []byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "roster.xlsx")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", o.base+"/admin/groups/upload-excel", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

type importBody struct {
	Created  int   `json:"created"`
	ImportID int32 `json:"import_id"`
}

// importScenario: a 1,000-row import with sequential logins during it,
// compared with idle logins; then a 1,000-row import whose client leaves
// after 100 ms, read back once done.
func importScenario(ctx context.Context, o options) error {
	client := newClient(8)
	token, s := login(ctx, client, o.base, "800000000002", o.password, "")
	if s.code != http.StatusOK {
		return fmt.Errorf("admin login: %d %v", s.code, s.err)
	}
	file, err := roster("LT-Импорт-1", '6', 1000)
	if err != nil {
		return err
	}
	var idle []time.Duration
	for i := range 20 {
		_, s := login(ctx, client, o.base, student(91+i), o.password, "")
		if s.code != http.StatusOK {
			return fmt.Errorf("idle login: %d %v", s.code, s.err)
		}
		idle = append(idle, s.dur)
	}

	type outcome struct {
		code int
		body []byte
		err  error
		wall time.Duration
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		code, body, err := upload(ctx, client, o, token, file)
		done <- outcome{code, body, err, time.Since(start)}
	}()
	var during []time.Duration
	overlapped := 0
	var res *outcome
	for i := range 20 {
		_, s := login(ctx, client, o.base, student(111+i), o.password, "")
		if s.code != http.StatusOK {
			return fmt.Errorf("login during import: %d %v", s.code, s.err)
		}
		during = append(during, s.dur)
		if res == nil {
			select {
			case r := <-done:
				res = &r
			default:
				overlapped = i + 1
			}
		}
	}
	if res == nil {
		r := <-done
		res = &r
	}
	if res.err != nil || res.code != http.StatusOK {
		return fmt.Errorf("import: %d %v %s", res.code, res.err, res.body)
	}
	var ib importBody
	_ = json.Unmarshal(res.body, &ib)
	fmt.Printf("1,000-row import: %d created, wall %.0f ms (goal ≤ 20 s)\n", ib.Created, ms(res.wall))
	fmt.Printf("logins: idle p50 %.0f / p99 %.0f ms; 20 sequential logins from the import's start (%d ended before it did) "+
		"p50 %.0f / p99 %.0f ms; p99 ratio %.2f (goal ≤ 2)\n",
		pct(idle, 0.5), pct(idle, 0.99), overlapped, pct(during, 0.5), pct(during, 0.99), pct(during, 0.99)/pct(idle, 0.99))
	if ib.Created != 1000 {
		return fmt.Errorf("import created %d, want 1000", ib.Created)
	}

	// The client (or a proxy) gives up after 100 ms.
	file, err = roster("LT-Импорт-2", '5', 1000)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	start = time.Now()
	code, body, err := upload(cctx, client, o, token, file)
	cancel()
	if err == nil {
		fmt.Printf("disconnect: the import answered %d within 100 ms, before the client left: %s\n", code, body)
	}
	if o.seedURL == "" {
		fmt.Println("disconnect: no -seed database to find the import id; not read back")
		return nil
	}
	pool, err := pgxpool.New(ctx, o.seedURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var id int32
	if err := pool.QueryRow(ctx, `SELECT max(id) FROM import_jobs`).Scan(&id); err != nil {
		return err
	}
	var job struct {
		Status string      `json:"status"`
		Result *importBody `json:"result"`
		Error  *string     `json:"error"`
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/admin/groups/imports/%d", o.base, id), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		err = json.NewDecoder(res.Body).Decode(&job)
		res.Body.Close()
		if err != nil {
			return err
		}
		if job.Status != "running" || time.Now().After(deadline) {
			break
		}
	}
	if job.Status != "done" || job.Result == nil || job.Result.Created != 1000 {
		return fmt.Errorf("import %d after the client left: %+v", id, job)
	}
	fmt.Printf("disconnect after 100 ms: import %d survived, %s, %d created, read back %.0f ms after the upload began\n",
		id, job.Status, job.Result.Created, ms(time.Since(start)))
	return nil
}
