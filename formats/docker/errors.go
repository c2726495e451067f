package docker

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// ociError is an error of the distribution API: a status and a code from
// the spec's list, rendered as {"errors":[{"code","message","detail"}]}.
type ociError struct {
	status  int
	code    string
	message string
	detail  any
}

func (e *ociError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, message string, detail any) *ociError {
	return &ociError{status: status, code: code, message: message, detail: detail}
}

var (
	errNameInvalid     = newError(http.StatusBadRequest, "NAME_INVALID", "invalid repository name", nil)
	errNameUnknown     = newError(http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", nil)
	errBlobUnknown     = newError(http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", nil)
	errUploadUnknown   = newError(http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", nil)
	errManifestUnknown = newError(http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", nil)
	errDigestInvalid   = newError(http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content", nil)
	errUnsupported     = newError(http.StatusMethodNotAllowed, "UNSUPPORTED", "the operation is unsupported", nil)
	errNotFoundRoute   = newError(http.StatusNotFound, "NOT_FOUND", "no such endpoint of the distribution API", nil)
)

// writeError renders err; engine errors are mapped to the closest OCI code,
// with notFound used for errs.NotFound.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, notFound *ociError) {
	var oe *ociError
	if !errors.As(err, &oe) {
		oe = fromEngine(r, log, err, notFound)
	}
	writeOCI(w, r, oe)
}

// writeOCI renders an error of the distribution API.
func writeOCI(w http.ResponseWriter, r *http.Request, oe *ociError) {
	body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": oe.code, "message": oe.message, "detail": oe.detail}}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	h.Del("Docker-Content-Digest")
	w.WriteHeader(oe.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func fromEngine(r *http.Request, log *slog.Logger, err error, notFound *ociError) *ociError {
	kind := errs.KindOf(err)
	if kind == errs.NotFound && notFound != nil {
		return notFound
	}
	if kind == errs.Internal || kind == errs.InsufficientStorage {
		log.Error("docker request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	// The status comes from the one table in pkg/errs; this only picks the
	// distribution API's code for it.
	return newError(errs.Status(err), ociCodes[kind], errs.Message(err), nil)
}

// ociCodes is the distribution API error code for each kind.
var ociCodes = map[errs.Kind]string{
	errs.Internal:     "UNKNOWN",
	errs.NotFound:     "NAME_UNKNOWN",
	errs.Invalid:      "BLOB_UPLOAD_INVALID",
	errs.Conflict:     "DENIED",
	errs.Unauthorized: "UNAUTHORIZED",
	errs.Forbidden:    "DENIED",
	errs.Unsupported:  "UNSUPPORTED",
	errs.Upstream:     "UNKNOWN",
	errs.TooLarge:     "SIZE_INVALID",
	errs.TooLong:      "NAME_INVALID",
	// The spec has no code for a full disk; the status (507) tells.
	errs.InsufficientStorage: "UNKNOWN",
}

// policyError reports a write the repository's policy refused (deny, or a
// tag overwrite under allow_once) as DENIED.
func policyError(err error) error {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Unsupported:
		return newError(http.StatusForbidden, "DENIED", errs.Message(err), nil)
	}
	return err
}
