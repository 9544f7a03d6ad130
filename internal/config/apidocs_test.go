package config_test

import (
	"strings"
	"testing"

	"platform/internal/config"
)

// API_DOCS is off unless set; a value that is not a boolean refuses start
// with the variable's name.
func TestAPIDocs(t *testing.T) {
	for _, tc := range []struct {
		value string // "" → unset
		want  bool
	}{{"", false}, {"true", true}, {"1", true}, {"false", false}, {"0", false}} {
		env := base()
		if tc.value != "" {
			env["API_DOCS"] = tc.value
		}
		cfg, err := config.Load(env)
		if err != nil {
			t.Fatalf("API_DOCS=%q: %v", tc.value, err)
		}
		if cfg.APIDocs != tc.want {
			t.Errorf("API_DOCS=%q: APIDocs = %v, want %v", tc.value, cfg.APIDocs, tc.want)
		}
	}
	env := base()
	env["API_DOCS"] = "maybe"
	if _, err := config.Load(env); err == nil || !strings.Contains(err.Error(), "API_DOCS") {
		t.Errorf("API_DOCS=maybe: err = %v, want one naming API_DOCS", err)
	}
}
