package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// tokenClaims is the signed content of an access token. Data is what the
// issuing realm (Docker, npm) grants; this package does not interpret it.
type tokenClaims struct {
	Subject string          `json:"sub"`
	Issued  int64           `json:"iat"`
	Expires int64           `json:"exp"`
	Data    json.RawMessage `json:"data,omitempty"`
}

var errToken = errs.New(errs.Unauthorized, "invalid or expired token")

// IssueToken signs a token for subject, valid for ttl, carrying data.
// Tokens are opaque to clients: base64url(claims) "." base64url(HMAC-SHA256).
// They are the Docker Bearer Token Realm's: none is issued or accepted
// while that realm is inactive. Issuing one is not audited, unlike the
// stored tokens (CreateToken): it lives minutes, is never stored nor
// revoked, and a client gets one per scope on every push and pull, so
// its records would bury the others; the sign-in it follows is what
// matters, and a failed one is recorded.
func (s *Service) IssueToken(subject string, ttl time.Duration, data any) (string, error) {
	if !s.realmOn(DockerRealm) {
		return "", errs.New(errs.Unauthorized, "the realm %s is not active", DockerRealm)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims, err := json.Marshal(tokenClaims{Subject: subject, Issued: now.Unix(), Expires: now.Add(ttl).Unix(), Data: raw})
	if err != nil {
		return "", err
	}
	mac, err := s.tokenMAC(claims)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(claims) + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// VerifyToken checks a token's signature (in constant time) and expiry,
// decodes its data into data and returns its subject. A token verified
// before is taken from the cache (its expiry still checked). Slices and
// maps in data are shared with other callers and must not be changed.
func (s *Service) VerifyToken(token string, data any) (string, error) {
	if !s.realmOn(DockerRealm) {
		return "", errToken
	}
	if v, ok := s.tokens.get(token); ok && v.fill(data) {
		if s.now().Unix() >= v.expires {
			return "", errToken
		}
		return v.subject, nil
	}
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", errToken
	}
	claimsRaw, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return "", errToken
	}
	want, err := s.tokenMAC(claimsRaw)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(got, want) {
		return "", errToken
	}
	var claims tokenClaims
	if err := json.Unmarshal(claimsRaw, &claims); err != nil || s.now().Unix() >= claims.Expires {
		return "", errToken
	}
	v := verifiedToken{subject: claims.Subject, expires: claims.Expires}
	if t := reflect.TypeOf(data); t != nil && t.Kind() == reflect.Pointer {
		// Decoded once, into the cache's copy, which fills the caller's.
		v.data = reflect.New(t.Elem())
		if len(claims.Data) > 0 && json.Unmarshal(claims.Data, v.data.Interface()) != nil {
			return "", errToken
		}
		v.fill(data)
	} else if data != nil && len(claims.Data) > 0 {
		return "", errToken // nothing to decode into
	}
	s.tokens.put(token, v)
	return claims.Subject, nil
}

// Sign returns a short signature of value with the server's token key, for
// identifiers handed to clients that must not be forged or moved to
// another context (Docker upload sessions bound to a repository).
func (s *Service) Sign(value string) (string, error) {
	mac, err := s.tokenMAC([]byte(value))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(mac[:16]), nil
}

// Verify reports, in constant time, whether sig is Sign's signature of value.
func (s *Service) Verify(value, sig string) bool {
	want, err := s.Sign(value)
	return err == nil && hmac.Equal([]byte(want), []byte(sig))
}

func (s *Service) tokenMAC(payload []byte) ([]byte, error) {
	s.mu.Lock()
	secret := s.secret
	s.mu.Unlock()
	if secret == nil {
		var err error
		if secret, err = s.db.TokenSecret(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.secret = secret
		s.mu.Unlock()
	}
	m := hmac.New(sha256.New, secret)
	m.Write(payload)
	return m.Sum(nil), nil
}
