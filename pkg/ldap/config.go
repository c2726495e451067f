// Package ldap is the LDAP realm: the configured LDAP servers (stored in
// the order they are tried, managed through Directory with the nx-ldap-*
// privileges) and the sign-in of their users (bind, user and group
// search), plugged into auth.Service as its ExternalRealm.
package ldap

import (
	"fmt"
	"regexp"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Server is one LDAP server's connection and mapping, with Nexus's JSON
// field names. AuthPassword is write-only: Directory never returns it.
type Server struct {
	ID                          string `json:"id"`
	Name                        string `json:"name"`
	Protocol                    string `json:"protocol"`
	UseTrustStore               bool   `json:"useTrustStore"`
	Host                        string `json:"host"`
	Port                        int    `json:"port"`
	SearchBase                  string `json:"searchBase"`
	AuthScheme                  string `json:"authScheme"`
	AuthRealm                   string `json:"authRealm,omitempty"`
	AuthUsername                string `json:"authUsername,omitempty"`
	AuthPassword                string `json:"authPassword,omitempty"`
	ConnectionTimeoutSeconds    int    `json:"connectionTimeoutSeconds"`
	ConnectionRetryDelaySeconds int    `json:"connectionRetryDelaySeconds"`
	MaxIncidentsCount           int    `json:"maxIncidentsCount"`
	UserBaseDN                  string `json:"userBaseDn,omitempty"`
	UserSubtree                 bool   `json:"userSubtree"`
	UserObjectClass             string `json:"userObjectClass,omitempty"`
	UserLDAPFilter              string `json:"userLdapFilter,omitempty"`
	UserIDAttribute             string `json:"userIdAttribute,omitempty"`
	UserRealNameAttribute       string `json:"userRealNameAttribute,omitempty"`
	UserEmailAddressAttribute   string `json:"userEmailAddressAttribute,omitempty"`
	UserPasswordAttribute       string `json:"userPasswordAttribute,omitempty"`
	LDAPGroupsAsRoles           bool   `json:"ldapGroupsAsRoles"`
	GroupType                   string `json:"groupType,omitempty"`
	GroupBaseDN                 string `json:"groupBaseDn,omitempty"`
	GroupSubtree                bool   `json:"groupSubtree"`
	GroupObjectClass            string `json:"groupObjectClass,omitempty"`
	GroupIDAttribute            string `json:"groupIdAttribute,omitempty"`
	GroupMemberAttribute        string `json:"groupMemberAttribute,omitempty"`
	GroupMemberFormat           string `json:"groupMemberFormat,omitempty"`
	UserMemberOfAttribute       string `json:"userMemberOfAttribute,omitempty"`
	Order                       int    `json:"order"`
}

// Enumerations of the Nexus JSON.
const (
	ProtocolLDAP  = "LDAP"
	ProtocolLDAPS = "LDAPS"
	AuthNone      = "NONE"
	AuthSimple    = "SIMPLE"
	GroupsStatic  = "STATIC"
	GroupsDynamic = "DYNAMIC"
)

// Defaults Nexus applies to fields left out.
const (
	defaultTimeoutSeconds    = 30
	defaultRetryDelaySeconds = 300
	defaultMaxIncidents      = 3
	defaultUserIDAttribute   = "uid"
	maxTimeoutSeconds        = 3600
)

func invalid(field, format string, args ...any) error {
	return &errs.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	validName = regexp.MustCompile(`^[A-Za-z0-9._ -]{1,200}$`)
	// attribute is an LDAP attribute description (RFC 4512 descr or OID).
	attribute = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$`)
)

// normalize fills Nexus's defaults into s and checks it, naming the first
// refused field.
func (s *Server) normalize() error {
	s.Protocol = strings.ToUpper(s.Protocol)
	s.AuthScheme = strings.ToUpper(s.AuthScheme)
	s.GroupType = strings.ToUpper(s.GroupType)
	if s.ConnectionTimeoutSeconds == 0 {
		s.ConnectionTimeoutSeconds = defaultTimeoutSeconds
	}
	if s.UserIDAttribute == "" {
		s.UserIDAttribute = defaultUserIDAttribute
	}
	switch {
	case !validName.MatchString(s.Name) || strings.TrimSpace(s.Name) != s.Name:
		return invalid("name", "must be 1 to 200 letters, digits, spaces, '.', '_' or '-', not starting or ending with a space")
	case s.Protocol != ProtocolLDAP && s.Protocol != ProtocolLDAPS:
		return invalid("protocol", "must be LDAP or LDAPS")
	case s.Host == "" || strings.ContainsAny(s.Host, "/ ?#@"):
		return invalid("host", "must be a host name or address")
	case s.Port < 1 || s.Port > 65535:
		return invalid("port", "must be from 1 to 65535")
	case s.ConnectionTimeoutSeconds < 1 || s.ConnectionTimeoutSeconds > maxTimeoutSeconds:
		return invalid("connectionTimeoutSeconds", "must be from 1 to %d", maxTimeoutSeconds)
	case s.ConnectionRetryDelaySeconds < 0:
		return invalid("connectionRetryDelaySeconds", "must not be negative")
	case s.MaxIncidentsCount < 0:
		return invalid("maxIncidentsCount", "must not be negative")
	case s.UserPasswordAttribute != "":
		// Comparing stored hashes would bypass the directory's own
		// password policy; users are verified by binding as themselves.
		return invalid("userPasswordAttribute", "is not supported: users are verified by binding as them; leave it empty")
	}
	if err := checkDN("searchBase", s.SearchBase, true); err != nil {
		return err
	}
	if err := checkDN("userBaseDn", s.UserBaseDN, false); err != nil {
		return err
	}
	switch s.AuthScheme {
	case AuthNone:
		s.AuthUsername, s.AuthPassword = "", ""
	case AuthSimple:
		if s.AuthUsername == "" {
			return invalid("authUsername", "is required for SIMPLE authentication")
		}
		if s.AuthPassword == "" {
			return invalid("authPassword", "is required for SIMPLE authentication")
		}
	case "DIGEST_MD5", "CRAM_MD5":
		return invalid("authScheme", "%s is not supported; use SIMPLE (over LDAPS) or NONE", s.AuthScheme)
	default:
		return invalid("authScheme", "must be NONE or SIMPLE")
	}
	if s.UserLDAPFilter != "" {
		if _, err := goldap.CompileFilter(wrapFilter(s.UserLDAPFilter)); err != nil {
			return invalid("userLdapFilter", "is not an LDAP filter: %v", err)
		}
	}
	for field, v := range map[string]string{"userIdAttribute": s.UserIDAttribute, "userObjectClass": s.UserObjectClass,
		"userRealNameAttribute": s.UserRealNameAttribute, "userEmailAddressAttribute": s.UserEmailAddressAttribute,
		"userMemberOfAttribute": s.UserMemberOfAttribute, "groupObjectClass": s.GroupObjectClass,
		"groupIdAttribute": s.GroupIDAttribute, "groupMemberAttribute": s.GroupMemberAttribute} {
		if v != "" && !attribute.MatchString(v) {
			return invalid(field, "must be an LDAP attribute name")
		}
	}
	return s.normalizeGroups()
}

// normalizeGroups checks the group mapping, needed only when LDAP groups
// become roles.
func (s *Server) normalizeGroups() error {
	if !s.LDAPGroupsAsRoles {
		return nil
	}
	switch s.GroupType {
	case GroupsStatic:
		for field, v := range map[string]string{"groupObjectClass": s.GroupObjectClass,
			"groupIdAttribute": s.GroupIDAttribute, "groupMemberAttribute": s.GroupMemberAttribute,
			"groupMemberFormat": s.GroupMemberFormat} {
			if v == "" {
				return invalid(field, "is required for STATIC groups")
			}
		}
		if !strings.Contains(s.GroupMemberFormat, "${dn}") && !strings.Contains(s.GroupMemberFormat, "${username}") {
			return invalid("groupMemberFormat", "must contain ${dn} or ${username}")
		}
		return checkDN("groupBaseDn", s.GroupBaseDN, false)
	case GroupsDynamic:
		if s.UserMemberOfAttribute == "" {
			return invalid("userMemberOfAttribute", "is required for DYNAMIC groups")
		}
		return nil
	default:
		return invalid("groupType", "must be STATIC or DYNAMIC when ldapGroupsAsRoles is true")
	}
}

func checkDN(field, dn string, required bool) error {
	if dn == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		return invalid(field, "is not a DN: %v", err)
	}
	return nil
}

// wrapFilter puts a filter written without its parentheses in them, as
// Nexus accepts "uid=dom*".
func wrapFilter(f string) string {
	if strings.HasPrefix(f, "(") {
		return f
	}
	return "(" + f + ")"
}

// under returns the DN rel relative to base: "ou=people" under
// "dc=example,dc=org".
func under(rel, base string) string {
	if rel == "" {
		return base
	}
	return rel + "," + base
}

// public is s as shown: without its password.
func (s Server) public() Server {
	s.AuthPassword = ""
	return s
}
