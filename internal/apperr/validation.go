package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Issue is one request-validation problem in FastAPI/Pydantic's shape
// (API.md §0.4). Input is the offending value; Ctx is omitted when nil.
type Issue struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// ValidationError is a 422 carrying one issue per problem.
type ValidationError struct {
	Issues []Issue
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = fmt.Sprintf("%v: %s", is.Loc, is.Msg)
	}
	return "validation: " + strings.Join(parts, "; ")
}

// Invalid is a 422 with the given issues.
func Invalid(issues ...Issue) *ValidationError {
	return &ValidationError{Issues: issues}
}

// ValueError is the port's cross-field rule issue (type value_error).
func ValueError(loc []any, input any, explanation string) Issue {
	return Issue{
		Type:  "value_error",
		Loc:   loc,
		Msg:   "Value error, " + explanation,
		Input: input,
		Ctx:   map[string]any{"error": explanation},
	}
}

// Missing is the "Field required" issue; input is the enclosing object (nil for a missing body).
func Missing(loc []any, input any) Issue {
	return Issue{Type: "missing", Loc: loc, Msg: "Field required", Input: input}
}

// JoinInvalid merges the 422s among errs into one, as FastAPI reports path
// and body problems together. It returns the first error that is not a 422
// as is, and nil when every err is nil.
func JoinInvalid(errs ...error) error {
	var issues []Issue
	for _, err := range errs {
		var v *ValidationError
		switch {
		case errors.As(err, &v):
			issues = append(issues, v.Issues...)
		case err != nil:
			return err
		}
	}
	if len(issues) == 0 {
		return nil
	}
	return Invalid(issues...)
}
