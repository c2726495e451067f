package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// NpmRealm is the realm of the tokens npm clients sign in for (Nexus's
// "npm Bearer Token Realm").
const NpmRealm = "NpmToken"

// realmFormats is the repository format each token realm serves.
var realmFormats = map[string]string{NpmRealm: "npm"}

// apiTokenPrefix starts every stored token, so Resolve tells them from
// the signed tokens of other realms (Docker's) without a lookup.
const apiTokenPrefix = "npm_"

// TokenOptions restrict what a new token may do.
type TokenOptions struct {
	// ReadOnly tokens hold only the browse and read actions of their user.
	ReadOnly bool
	// CIDRs, when given, are the only client addresses the token works from.
	CIDRs []string
}

// TokenInfo is what is known of a stored token; never the token itself.
type TokenInfo struct {
	Key      string // hex SHA-512 of the token: its stable identifier
	Prefix   string // the token's first characters, for display
	UserID   string
	Realm    string
	Created  time.Time
	ReadOnly bool
	CIDRs    []string
}

// CreateToken creates a token for userID in realm, valid until revoked. The
// token is returned once: only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, userID, realm string, opts TokenOptions) (string, TokenInfo, error) {
	if realmFormats[realm] == "" {
		return "", TokenInfo{}, errs.New(errs.Invalid, "no tokens of realm %q", realm)
	}
	if !s.realmOn(realm) {
		return "", TokenInfo{}, errs.New(errs.Forbidden, "the realm %s is not active", realm)
	}
	for _, c := range opts.CIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return "", TokenInfo{}, errs.New(errs.Invalid, "%q is not a CIDR range", c)
		}
	}
	// rand.Text is 26 base32 characters: 130 bits.
	token := apiTokenPrefix + rand.Text()
	t := &meta.Token{Key: tokenKey(token), Prefix: token[:len(apiTokenPrefix)+6], UserID: userID, Realm: realm,
		Created: s.now().UTC(), ReadOnly: opts.ReadOnly, CIDRs: opts.CIDRs}
	t.Source = tokenSource(ctx, userID)
	if err := s.db.CreateToken(t); err != nil {
		return "", TokenInfo{}, err
	}
	s.record(ctx, "security.usertoken", "created", userID, tokenAttrs(t))
	return token, tokenInfo(t), nil
}

// tokenSource is the source of the tokens of userID the caller in ctx
// creates and manages: a directory user's own (meta.SourceLDAP) when the
// caller is that directory user, else the local user's (""). The two are
// apart even when their IDs are the same.
func tokenSource(ctx context.Context, userID string) string {
	if p := PrincipalFrom(ctx); p != nil && p.external && p.UserID == userID {
		return meta.SourceLDAP
	}
	return ""
}

// Tokens lists the tokens of userID in realm, to that user or to holders
// of nx-users-read.
func (s *Service) Tokens(ctx context.Context, userID, realm string) ([]TokenInfo, error) {
	if err := s.requireSelfOr(ctx, userID, Application("users", "read")); err != nil {
		return nil, err
	}
	ts, err := s.db.Tokens(userID, realm)
	if err != nil {
		return nil, err
	}
	source := tokenSource(ctx, userID)
	out := []TokenInfo{}
	for _, t := range ts {
		if t.Source == source {
			out = append(out, tokenInfo(t))
		}
	}
	return out, nil
}

// RevokeToken deletes the token of userID named by keyOrToken: its key,
// or the token itself (a client signing out names its own). Another
// user's token is errs.NotFound, as a missing one. The caller is that user
// or holds nx-users-update.
func (s *Service) RevokeToken(ctx context.Context, userID, keyOrToken string) error {
	if err := s.requireSelfOr(ctx, userID, Application("users", "update")); err != nil {
		return err
	}
	key := keyOrToken
	if strings.HasPrefix(keyOrToken, apiTokenPrefix) {
		key = tokenKey(keyOrToken)
	}
	t, err := s.db.GetToken(key)
	if err != nil {
		return err
	}
	if t.UserID != userID || t.Source != tokenSource(ctx, userID) {
		return errs.New(errs.NotFound, "token not found")
	}
	if err := s.db.DeleteToken(key); err != nil {
		return err
	}
	s.record(ctx, "security.usertoken", "deleted", userID, tokenAttrs(t))
	return nil
}

// storedTokenText matches a stored token in text, such as a request path
// that names one (npm logout's DELETE -/user/token/<token>).
var storedTokenText = regexp.MustCompile(apiTokenPrefix + `[A-Za-z0-9]{20,}`)

// RedactTokens replaces every stored token in s by its prefix, for logs:
// a token is a secret however a client sends it.
func RedactTokens(s string) string {
	if !strings.Contains(s, apiTokenPrefix) {
		return s
	}
	return storedTokenText.ReplaceAllStringFunc(s, func(t string) string { return t[:len(apiTokenPrefix)+6] + "…" })
}

func tokenKey(token string) string {
	sum := sha512.Sum512([]byte(token))
	return hex.EncodeToString(sum[:])
}

func tokenInfo(t *meta.Token) TokenInfo {
	return TokenInfo{Key: t.Key, Prefix: t.Prefix, UserID: t.UserID, Realm: t.Realm, Created: t.Created,
		ReadOnly: t.ReadOnly, CIDRs: t.CIDRs}
}

// storedToken returns the Bearer token of req if it is one of the stored
// tokens' kind.
func storedToken(req *http.Request) (string, bool) {
	h := req.Header.Get("Authorization")
	if !hasBearer(req) {
		return "", false
	}
	token := strings.TrimSpace(h[7:])
	return token, strings.HasPrefix(token, apiTokenPrefix)
}

// tokenPrincipal is the principal of a stored token presented from
// client: its user's, restricted to its realm's format and as the token
// is. A token unknown, revoked,
// of a user gone or disabled, or used from outside its ranges is
// errLogin, and so is every token while its realm is inactive.
func (s *Service) tokenPrincipal(ctx context.Context, token, client string) (*Principal, error) {
	t, err := s.db.GetToken(tokenKey(token))
	if errs.KindOf(err) == errs.NotFound {
		return nil, errLogin
	}
	if err != nil {
		return nil, err
	}
	if !s.realmOn(t.Realm) {
		return nil, errLogin
	}
	if len(t.CIDRs) > 0 && !inRanges(client, t.CIDRs) {
		return nil, errLogin
	}
	p, err := s.PrincipalOf(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	// A token stands for the user it was created for: a directory user's
	// is no key to a local user created later with the same ID, nor the
	// reverse.
	if p.external != (t.Source != "") {
		return nil, errLogin
	}
	restricted := *p
	restricted.readOnly, restricted.format = t.ReadOnly, realmFormats[t.Realm]
	return &restricted, nil
}

// inRanges reports whether the host of addr (with or without a port) lies
// in one of cidrs.
func inRanges(addr string, cidrs []string) bool {
	host := addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		host = ap.Addr().String()
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, c := range cidrs {
		if pfx, err := netip.ParsePrefix(c); err == nil && pfx.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}
