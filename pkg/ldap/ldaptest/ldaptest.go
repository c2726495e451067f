// Package ldaptest runs a real OpenLDAP server (Debian's slapd) for tests:
// on 127.0.0.1 at a free port, with a temporary slapd.conf and database,
// the users and groups of Fixture, stopped when the test ends.
package ldaptest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// Directory content: base dc=example,dc=org; users under ou=people
// (inetOrgPerson, uid; seeAlso names their groups), groups under ou=groups
// (groupOfNames, member by DN).
const (
	BaseDN        = "dc=example,dc=org"
	AdminDN       = "cn=admin," + BaseDN
	AdminPassword = "admin-secret"
)

// Users are the directory's users: uid → password. alice is in
// developers and deployers, bob in developers, carol in no group; admin
// shadows the local admin's name.
var Users = map[string]string{"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "admin": "ldap-admin-pw"}

// Groups are the groupOfNames entries: cn → member uids.
var Groups = map[string][]string{"developers": {"alice", "bob"}, "deployers": {"alice"}}

// Server is a running slapd.
type Server struct {
	Host string
	Port int
}

// Start runs slapd for the test, which is skipped without slapd unless
// NEXUS_GO_E2E_CLIENTS=required, which fails it.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, "", "")
}

// StartLDAPS is Start serving LDAPS (TLS from the first byte) with the
// PEM certificate and key in certFile and keyFile.
func StartLDAPS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	return start(t, certFile, keyFile)
}

func start(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	slapd, err := exec.LookPath("slapd")
	if err != nil {
		slapd = "/usr/sbin/slapd"
		if _, err := os.Stat(slapd); err != nil {
			if os.Getenv("NEXUS_GO_E2E_CLIENTS") == "required" {
				t.Fatal("slapd is missing (apt-get install slapd ldap-utils) and NEXUS_GO_E2E_CLIENTS=required")
			}
			t.Skip("slapd is missing (apt-get install slapd ldap-utils)")
		}
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	text := fmt.Sprintf(slapdConf, dir, dir, db, AdminDN, AdminPassword)
	scheme := "ldap"
	if certFile != "" {
		// Global directives: they go before the database section.
		text = fmt.Sprintf("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", certFile, keyFile) + text
		scheme = "ldaps"
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// slapadd loads the entries offline, before the server opens the database.
	add := exec.Command(filepath.Join(filepath.Dir(slapd), "slapadd"), "-f", conf, "-b", BaseDN)
	add.Stdin = bytes.NewReader([]byte(ldif()))
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	port := testproc.FreePort(t)
	url := scheme + "://127.0.0.1:" + strconv.Itoa(port) + "/"
	// -d 0 keeps it in the foreground, so killing it stops it.
	cmd := exec.Command(slapd, "-f", conf, "-h", url, "-d", "0")
	if os.Geteuid() == 0 {
		// Running as root, slapd stays root without -u; say so plainly.
		cmd.Args = append(cmd.Args, "-u", "root", "-g", "root")
	}
	testproc.Start(t, "slapd", cmd, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	return &Server{Host: "127.0.0.1", Port: port}
}

// UserDN is the DN of uid.
func UserDN(uid string) string { return "uid=" + uid + ",ou=people," + BaseDN }

// slapdConf: the schemas inetOrgPerson needs, one mdb database, the
// admin as rootdn, users able to bind and nobody else to read passwords.
const slapdConf = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile %s/slapd.pid
argsfile %s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "dc=example,dc=org"
directory %s
rootdn "%s"
rootpw %s
access to attrs=userPassword by anonymous auth by self write by * none
access to * by * read
`

func ldif() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n", BaseDN)
	fmt.Fprintf(&b, "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", BaseDN)
	fmt.Fprintf(&b, "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n", BaseDN)
	for _, uid := range []string{"admin", "alice", "bob", "carol"} {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s Example\nsn: Example\nmail: %s@example.org\nuserPassword: %s\n",
			UserDN(uid), uid, uid, uid, Users[uid])
		// seeAlso stands in for memberOf (an overlay) in DYNAMIC group tests.
		for _, cn := range []string{"developers", "deployers"} {
			if slices.Contains(Groups[cn], uid) {
				fmt.Fprintf(&b, "seeAlso: cn=%s,ou=groups,%s\n", cn, BaseDN)
			}
		}
		b.WriteString("\n")
	}
	for _, cn := range []string{"developers", "deployers"} {
		fmt.Fprintf(&b, "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, BaseDN, cn)
		for _, uid := range Groups[cn] {
			fmt.Fprintf(&b, "member: %s\n", UserDN(uid))
		}
		b.WriteString("\n")
	}
	return b.String()
}
