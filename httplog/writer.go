package httplog

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter records the status and size of a response on its way to
// the client. It is never handed out bare: wrap picks a flavour that
// implements exactly the optional interfaces (http.Flusher, http.Hijacker,
// io.ReaderFrom) of the writer it wraps, so a type assertion by the handler
// tells the truth, as in go-chi/chi's middleware.WrapResponseWriter. Every
// flavour has Unwrap, so http.ResponseController reaches deadlines and full
// duplex through it.
type responseWriter struct {
	http.ResponseWriter
	status      int   // the final status sent; 0 until the header is written
	bytes       int64 // body bytes accepted by the underlying writer
	wroteHeader bool
	hijacked    bool
	err         error // the first write error, usually a gone client
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteHeader records the first final status and passes it on.
// Informational 1xx statuses (103 Early Hints) are passed on without
// counting as the final one, except 101 Switching Protocols, which is final.
// Later calls are dropped, like chi's wrapper, so net/http's "superfluous
// WriteHeader" complaint does not name this package as the caller.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.status, w.wroteHeader = code, true
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written; the first Write implies a 200 status.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *responseWriter) flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	w.ResponseWriter.(http.Flusher).Flush()
}

func (w *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

func (w *responseWriter) readFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
	w.bytes += n
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// The flavours: F = http.Flusher, H = http.Hijacker, R = io.ReaderFrom.
// Each is a single pointer, so storing one in an interface does not
// allocate.
type (
	writerF   struct{ *responseWriter }
	writerH   struct{ *responseWriter }
	writerR   struct{ *responseWriter }
	writerFH  struct{ *responseWriter }
	writerFR  struct{ *responseWriter }
	writerHR  struct{ *responseWriter }
	writerFHR struct{ *responseWriter }
)

func (w writerF) Flush()   { w.flush() }
func (w writerFH) Flush()  { w.flush() }
func (w writerFR) Flush()  { w.flush() }
func (w writerFHR) Flush() { w.flush() }

func (w writerH) Hijack() (net.Conn, *bufio.ReadWriter, error)   { return w.hijack() }
func (w writerFH) Hijack() (net.Conn, *bufio.ReadWriter, error)  { return w.hijack() }
func (w writerHR) Hijack() (net.Conn, *bufio.ReadWriter, error)  { return w.hijack() }
func (w writerFHR) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

func (w writerR) ReadFrom(src io.Reader) (int64, error)   { return w.readFrom(src) }
func (w writerFR) ReadFrom(src io.Reader) (int64, error)  { return w.readFrom(src) }
func (w writerHR) ReadFrom(src io.Reader) (int64, error)  { return w.readFrom(src) }
func (w writerFHR) ReadFrom(src io.Reader) (int64, error) { return w.readFrom(src) }

// wrap returns rw in the flavour matching the optional interfaces of the
// writer it wraps.
func wrap(rw *responseWriter) http.ResponseWriter {
	_, f := rw.ResponseWriter.(http.Flusher)
	_, h := rw.ResponseWriter.(http.Hijacker)
	_, r := rw.ResponseWriter.(io.ReaderFrom)
	switch {
	case f && h && r:
		return writerFHR{rw}
	case f && h:
		return writerFH{rw}
	case f && r:
		return writerFR{rw}
	case h && r:
		return writerHR{rw}
	case f:
		return writerF{rw}
	case h:
		return writerH{rw}
	case r:
		return writerR{rw}
	}
	return rw
}
