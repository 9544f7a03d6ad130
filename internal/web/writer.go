package web

import (
	"bufio"
	"io"
)

// Writer is a pooled 64 KiB buffered writer onto w (the one WriteParts streams
// large bodies with), for handlers that write a body as they read it;
// ReleaseWriter returns it once the handler is done with it.
func Writer(w io.Writer) *bufio.Writer {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

// ReleaseWriter returns a Writer to the pool (without flushing it).
func ReleaseWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writers.Put(bw)
}
