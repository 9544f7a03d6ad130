package groups

// importError reports one skipped row of an Excel import (Excel's 1-based row number).
type importError struct {
	Row    int    `json:"row"`
	IIN    string `json:"iin"`
	Reason string `json:"reason"`
}

// importResult is the answer of POST /admin/groups/upload-excel.
type importResult struct {
	Message   string        `json:"message"`
	GroupID   int32         `json:"group_id"`
	GroupName string        `json:"group_name"`
	Created   int           `json:"created"`
	Existing  int           `json:"existing"`
	Skipped   int           `json:"skipped"`
	Errors    []importError `json:"errors"`
}
