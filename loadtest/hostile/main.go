// Command hostile is the bounded load run of issue 21 against a server on
// 127.0.0.1 (loadtest/hostile.sh starts one):
//
//   - bodies: anonymous 2 MiB JSON bodies (an array of small objects, the
//     shape that cost ~135 MiB each when parsed into a tree) to /auth/login
//     and /auth/refresh, n in all, c at once, half with a Content-Length and
//     half chunked; then the server's peak RSS (VmHWM of -pid).
//   - crowd: u virtual users of one account (the original's Locust file:
//     -u 300 -r 100) logging in for d; counts statuses, checks that every
//     503 has Retry-After, and reports the longest answer.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18000", "server base URL (127.0.0.1 only)")
	mode := flag.String("mode", "bodies", "bodies or crowd")
	pid := flag.Int("pid", 0, "server pid, for its peak RSS")
	n := flag.Int("n", 48, "bodies: requests in all")
	c := flag.Int("c", 16, "bodies: requests at once")
	users := flag.Int("u", 300, "crowd: virtual users")
	rate := flag.Int("r", 100, "crowd: users started per second")
	dur := flag.Duration("d", 30*time.Second, "crowd: duration")
	iin := flag.String("iin", "", "crowd: the account's IIN")
	password := flag.String("password", "", "crowd: the account's password")
	flag.Parse()
	if !strings.HasPrefix(*base, "http://127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "hostile: -base must be on 127.0.0.1")
		os.Exit(2)
	}
	switch *mode {
	case "bodies":
		bodies(*base, *n, *c)
	case "crowd":
		crowd(*base, *users, *rate, *dur, *iin, *password)
	}
	if *pid > 0 {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM") || strings.HasPrefix(line, "VmRSS") {
				fmt.Println("server", strings.Join(strings.Fields(line), " "))
			}
		}
	}
}

func bodies(base string, n, c int) {
	var body bytes.Buffer
	body.WriteByte('[')
	for body.Len() < 2<<20-16 {
		if body.Len() > 1 {
			body.WriteByte(',')
		}
		body.WriteString(`{"a":1}`)
	}
	body.WriteByte(']')
	payload := body.Bytes()
	sem := make(chan struct{}, c)
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			path := []string{"/auth/login", "/auth/refresh"}[i%2]
			var rd io.Reader = bytes.NewReader(payload)
			if i%4 >= 2 {
				rd = io.MultiReader(bytes.NewReader(payload)) // no length: chunked
			}
			req, _ := http.NewRequest("POST", base+path, rd)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			key := "error"
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				key = fmt.Sprint(res.StatusCode)
			}
			mu.Lock()
			count[key]++
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Printf("bodies: %d × %d KiB, %d at once, in %s: %v\n", n, len(payload)>>10, c, time.Since(start).Round(time.Millisecond), count)
}

func crowd(base string, users, rate int, dur time.Duration, iin, password string) {
	payload := fmt.Sprintf(`{"iin":%q,"password":%q}`, iin, password)
	var mu sync.Mutex
	count := map[string]int{}
	var lat []time.Duration
	noRetry := 0
	stop := time.Now().Add(dur)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: users}}
	var wg sync.WaitGroup
	for u := range users {
		time.Sleep(time.Second / time.Duration(rate))
		_ = u
		wg.Go(func() {
			for time.Now().Before(stop) {
				t0 := time.Now()
				res, err := client.Post(base+"/auth/login", "application/json", strings.NewReader(payload))
				took := time.Since(t0)
				key := "error"
				retry := ""
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
					key = fmt.Sprint(res.StatusCode)
					retry = res.Header.Get("Retry-After")
				}
				mu.Lock()
				count[key]++
				lat = append(lat, took)
				if key == "503" && retry == "" {
					noRetry++
				}
				mu.Unlock()
				if key == "503" {
					time.Sleep(time.Second) // a client honouring Retry-After backs off
				}
			}
		})
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))].Round(time.Millisecond) }
	fmt.Printf("crowd: %d users of one account for %s: %v; 503 without Retry-After: %d; latency p50 %s p99 %s max %s\n",
		users, dur, count, noRetry, p(0.5), p(0.99), p(1))
}
