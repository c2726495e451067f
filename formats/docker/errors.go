package docker

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// errorCode is one error of the distribution API as the spec lists it: the
// code, the HTTP status it is sent with and its default message. Each is
// declared once, below; call sites pick one and at most add a message and
// a detail.
type errorCode struct {
	code    string
	status  int
	message string
}

// The error codes the registry sends. BLOB_UPLOAD_INVALID and NAME_INVALID
// each have a second descriptor for the status the spec gives them in
// one case: an out-of-order chunk (416) and a name too long to route (414).
var (
	codeBlobUnknown         = errorCode{"BLOB_UNKNOWN", http.StatusNotFound, "blob unknown to registry"}
	codeBlobUploadInvalid   = errorCode{"BLOB_UPLOAD_INVALID", http.StatusBadRequest, "blob upload invalid"}
	codeRangeInvalid        = errorCode{"BLOB_UPLOAD_INVALID", http.StatusRequestedRangeNotSatisfiable, "chunk does not start where the upload ends"}
	codeBlobUploadUnknown   = errorCode{"BLOB_UPLOAD_UNKNOWN", http.StatusNotFound, "blob upload unknown to registry"}
	codeDigestInvalid       = errorCode{"DIGEST_INVALID", http.StatusBadRequest, "provided digest did not match uploaded content"}
	codeManifestBlobUnknown = errorCode{"MANIFEST_BLOB_UNKNOWN", http.StatusBadRequest, "manifest references a blob or manifest the repository does not have"}
	codeManifestInvalid     = errorCode{"MANIFEST_INVALID", http.StatusBadRequest, "manifest invalid"}
	codeManifestUnknown     = errorCode{"MANIFEST_UNKNOWN", http.StatusNotFound, "manifest unknown"}
	codeNameInvalid         = errorCode{"NAME_INVALID", http.StatusBadRequest, "invalid repository name"}
	codeNameTooLong         = errorCode{"NAME_INVALID", http.StatusRequestURITooLong, "repository name too long"}
	codeNameUnknown         = errorCode{"NAME_UNKNOWN", http.StatusNotFound, "repository name not known to registry"}
	codeNotFound            = errorCode{"NOT_FOUND", http.StatusNotFound, "no such endpoint of the distribution API"}
	codePaginationInvalid   = errorCode{"PAGINATION_NUMBER_INVALID", http.StatusBadRequest, "invalid number of results requested"}
	codeSizeInvalid         = errorCode{"SIZE_INVALID", http.StatusRequestEntityTooLarge, "content exceeds the size limit"}
	codeTagInvalid          = errorCode{"TAG_INVALID", http.StatusBadRequest, "invalid tag"}
	codeUnauthorized        = errorCode{"UNAUTHORIZED", http.StatusUnauthorized, "authentication required"}
	codeDenied              = errorCode{"DENIED", http.StatusForbidden, "requested access to the resource is denied"}
	codeUnsupported         = errorCode{"UNSUPPORTED", http.StatusMethodNotAllowed, "the operation is unsupported"}
	codeUnknown             = errorCode{"UNKNOWN", http.StatusInternalServerError, "unknown error"}
)

// ociError is an error of the distribution API, rendered as
// {"errors":[{"code","message","detail"}]}.
type ociError struct {
	status  int
	code    string
	message string
	detail  any
}

func (e *ociError) Error() string { return e.code + ": " + e.message }

// err is the error with the code's default message.
func (c errorCode) err() *ociError { return c.with(c.message, nil) }

// withDetail is the error with the default message and a detail.
func (c errorCode) withDetail(detail any) *ociError { return c.with(c.message, detail) }

// with is the error with its own message and detail.
func (c errorCode) with(message string, detail any) *ociError {
	return &ociError{status: c.status, code: c.code, message: message, detail: detail}
}

// ofEngine is the error for an engine error: the code, with the status the
// one table in pkg/errs gives the error's kind and the error's message.
func (c errorCode) ofEngine(err error) *ociError {
	return &ociError{status: errs.Status(err), code: c.code, message: errs.Message(err)}
}

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
	return engineCodes[kind].ofEngine(err)
}

// engineCodes is the distribution API error code for each kind of engine
// error; the status stays the kind's.
var engineCodes = map[errs.Kind]errorCode{
	errs.Internal:     codeUnknown,
	errs.NotFound:     codeNameUnknown,
	errs.Invalid:      codeBlobUploadInvalid,
	errs.Conflict:     codeDenied,
	errs.Unauthorized: codeUnauthorized,
	errs.Forbidden:    codeDenied,
	errs.Unsupported:  codeUnsupported,
	errs.Upstream:     codeUnknown,
	errs.TooLarge:     codeSizeInvalid,
	errs.TooLong:      codeNameTooLong,
	// The spec has no code for a full disk or a read-only server; the
	// status (507, 503) and the message tell.
	errs.InsufficientStorage: codeUnknown,
	errs.Unavailable:         codeUnknown,
}

// policyError reports a write the repository's policy refused (deny, or a
// tag overwrite under allow_once) as DENIED.
func policyError(err error) error {
	switch errs.KindOf(err) {
	case errs.Invalid, errs.Unsupported:
		return codeDenied.with(errs.Message(err), nil)
	}
	return err
}
