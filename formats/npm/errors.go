package npm

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// WriteError answers what the server refuses before the handler runs as
// the handler would.
func (f *Format) WriteError(w http.ResponseWriter, req *http.Request, err error) {
	writeError(w, req, f.log, err)
}

// writeError answers err in npm's error format, {"error": ..., "reason":
// ...} with the kind's status; npm shows the status and the message.
// Internal detail goes to the log only (serve.ErrorStatus).
func writeError(w http.ResponseWriter, req *http.Request, log *slog.Logger, err error) {
	status := serve.ErrorStatus(w, req, log, err)
	msg := errs.Message(err)
	writeJSON(w, req, status, map[string]string{"error": msg, "reason": msg})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, req *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	writeRawJSON(w, req, status, b)
}

// writeRawJSON answers b, JSON already, with status.
func writeRawJSON(w http.ResponseWriter, req *http.Request, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		w.Write(b)
	}
}
