package meta

import bolt "go.etcd.io/bbolt"

// keyMail is the settings key of the email server configuration.
var keyMail = []byte("email")

// MailSettings is the email server configuration (Nexus's
// EmailConfiguration). The password is stored as given: like the LDAP
// servers' system password, it is needed in clear to log in.
type MailSettings struct {
	Enabled                       bool   `json:"enabled"`
	Host                          string `json:"host"`
	Port                          int    `json:"port"`
	Username                      string `json:"username,omitempty"`
	Password                      string `json:"password,omitempty"`
	FromAddress                   string `json:"fromAddress"`
	SubjectPrefix                 string `json:"subjectPrefix,omitempty"`
	StartTLSEnabled               bool   `json:"startTlsEnabled"`
	StartTLSRequired              bool   `json:"startTlsRequired"`
	SSLOnConnectEnabled           bool   `json:"sslOnConnectEnabled"`
	SSLServerIdentityCheckEnabled bool   `json:"sslServerIdentityCheckEnabled"`
	NexusTrustStoreEnabled        bool   `json:"nexusTrustStoreEnabled"`
}

// DefaultMail is the configuration of a fresh install and after a reset:
// disabled, Nexus's defaults otherwise.
var DefaultMail = MailSettings{Host: "localhost", Port: 25, FromAddress: "nexus@example.org"}

// Mail returns the stored email configuration, or DefaultMail.
func (db *DB) Mail() (MailSettings, error) {
	s := DefaultMail
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketSettings), keyMail, &s)
		return err
	})
	return s, err
}

// UpdateMail replaces the email configuration with what fn makes of the
// stored one, in one transaction (a PUT without password keeps the stored
// one, which a concurrent PUT must not change in between).
func (db *DB) UpdateMail(fn func(stored MailSettings) (MailSettings, error)) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		s := DefaultMail
		if _, err := getJSON(b, keyMail, &s); err != nil {
			return err
		}
		next, err := fn(s)
		if err != nil {
			return err
		}
		return putJSON(b, keyMail, next)
	})
}
