package serve

import (
	"io"
	"net/http"
)

// StatusWriter records the status and size of a response, keeping the
// writer's ReadFrom (sendfile) and what http.ResponseController reaches.
type StatusWriter struct {
	http.ResponseWriter
	// Status is the final status sent, 0 while nothing is.
	Status int
	Bytes  int64
}

// Logged is the status for a request log: what was sent, or the 200 that
// net/http sends for a handler that wrote nothing.
func (s *StatusWriter) Logged() int {
	if s.Status == 0 {
		return http.StatusOK
	}
	return s.Status
}

func (s *StatusWriter) WriteHeader(code int) {
	// The first final status is the one sent; 1xx ones precede it.
	if s.Status < http.StatusOK {
		s.Status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(b []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.Bytes += int64(n)
	return n, err
}

func (s *StatusWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
	}
	s.Bytes += n
	return n, err
}

func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
