package web

import (
	"net/http"
	"strings"
)

// CORS applies API.md §0.10 from PLACE_URL: an empty list or "*" is open mode
// (any origin, no credentials); otherwise exact-match list mode with credentials.
func CORS(placeURL string) func(http.Handler) http.Handler {
	origins := parseOrigins(placeURL)
	open := len(origins) == 0 || (len(origins) == 1 && origins[0] == "*")
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			ok := open || allowed[origin]
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				if !ok {
					h.Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte("Disallowed CORS origin"))
					return
				}
				setOrigin(h, open, origin)
				h.Set("Access-Control-Allow-Methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h.Set("Access-Control-Allow-Headers", req)
				}
				h.Set("Access-Control-Max-Age", "600")
				h.Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("OK"))
				return
			}
			if ok {
				setOrigin(h, open, origin)
				h.Set("Access-Control-Expose-Headers", "Content-Disposition")
			} else if !open {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			next.ServeHTTP(w, r)
		})
	}
}

func setOrigin(h http.Header, open bool, origin string) {
	if open {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// parseOrigins splits PLACE_URL: whitespace and one pair of surrounding
// quotes trimmed, split on commas, each trimmed, empties dropped.
func parseOrigins(placeURL string) []string {
	s := strings.TrimSpace(placeURL)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = s[1 : len(s)-1]
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
