package maven

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxUploadPOM bounds a POM read for its coordinates.
const maxUploadPOM = 4 << 20

// uploadAsset is one file of a Maven component upload.
type uploadAsset struct {
	file       repo.UploadFile
	classifier string
	extension  string
	body       []byte // when read already (a POM giving the coordinates)
}

// UploadComponent takes Nexus's maven2 upload form: maven2.groupId,
// maven2.artifactId, maven2.version (or a POM among the assets to take them
// from), maven2.generate-pom and maven2.packaging, and files maven2.assetN
// with maven2.assetN.extension and maven2.assetN.classifier. Each file is
// stored at its layout path under the repository's policies, with the
// privilege its deploy would need, then the metadata is brought up to date.
// Snapshots are refused, as in Nexus: deploy them with Maven.
func (f *Format) UploadComponent(ctx context.Context, r repo.Repository, form *repo.UploadForm) error {
	var assets []uploadAsset
	for _, n := range form.Assets("maven2.") {
		a := uploadAsset{file: form.Files["maven2.asset"+n], extension: form.Fields["maven2.asset"+n+".extension"],
			classifier: form.Fields["maven2.asset"+n+".classifier"]}
		if a.extension == "" {
			return &errs.FieldError{Field: "extension", Message: fmt.Sprintf("Missing required asset field 'Extension' on '%s'", n)}
		}
		assets = append(assets, a)
	}
	if len(assets) == 0 {
		return &errs.FieldError{Field: "asset", Message: "No assets found in upload"}
	}
	g, a, v := form.Fields["maven2.groupId"], form.Fields["maven2.artifactId"], form.Fields["maven2.version"]
	packaging := form.Fields["maven2.packaging"]
	if g == "" && a == "" && v == "" {
		pom, err := pomOf(assets)
		if err != nil {
			return err
		}
		if pom != nil {
			g, a, v, packaging = pom.GroupID, pom.ArtifactID, pom.Version, pom.Packaging
		}
	}
	for _, field := range []struct{ id, label, value string }{
		{"groupId", "Group ID", g}, {"artifactId", "Artifact ID", a}, {"version", "Version", v}} {
		if field.value == "" {
			return &errs.FieldError{Field: field.id, Message: fmt.Sprintf("Missing required component field '%s'", field.label)}
		}
	}
	if strings.HasSuffix(v, snapshotSuffix) {
		return &errs.FieldError{Field: "version", Message: "Upload to snapshot repositories not supported, use the maven client."}
	}
	if form.Fields["maven2.generate-pom"] == "true" {
		for _, as := range assets {
			if as.extension == "pom" && as.classifier == "" {
				return &errs.FieldError{Field: "generate-pom", Message: "Cannot generate a POM: one is uploaded"}
			}
		}
		if packaging == "" {
			packaging = "jar"
		}
		pom := generatedPOM(g, a, v, packaging)
		assets = append(assets, uploadAsset{extension: "pom", body: pom, file: repo.UploadFile{Size: int64(len(pom))}})
	}
	// Every path checked, and the privilege for it, before the first write.
	coords := make([]Coords, len(assets))
	seen := map[string]bool{}
	for i, as := range assets {
		co := Coords{GroupID: g, ArtifactID: a, BaseVersion: v, Version: v, Classifier: as.classifier, Extension: as.extension}
		p := co.Path()
		if _, err := ParseArtifact(p); err != nil {
			return &errs.FieldError{Field: "version", Message: fmt.Sprintf("%s is not a Maven 2 layout path: %v", p, err)}
		}
		if seen[p] {
			return &errs.FieldError{Field: "extension", Message: "Asset paths must be unique: " + p}
		}
		seen[p] = true
		if _, err := f.checkArtifactPath(r, p); err != nil {
			return &errs.FieldError{Field: "version", Message: errs.Message(err)}
		}
		action := "add"
		if _, err := r.Stat(ctx, p); err == nil {
			action = "edit"
		}
		if err := r.AuthorizePath(ctx, action, p); err != nil {
			return err
		}
		coords[i] = co
	}
	for i, as := range assets {
		if err := putAsset(ctx, r, coords[i].Path(), as, form); err != nil {
			return err
		}
	}
	// One rebuild covers the version; the POM's coordinates also note a
	// plugin's prefix.
	main := coords[0]
	for _, co := range coords {
		if co.Extension == "pom" && co.Classifier == "" {
			main = co
		}
	}
	return f.deployed(ctx, r, main)
}

func putAsset(ctx context.Context, r repo.Repository, p string, as uploadAsset, form *repo.UploadForm) error {
	opts := form.PutOptions(as.file.Size)
	opts.AllowIdentical = true
	if as.body != nil {
		_, err := r.Put(ctx, p, bytes.NewReader(as.body), opts)
		return err
	}
	body, err := as.file.Open()
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = r.Put(ctx, p, body, opts)
	return err
}

// pomOf parses the uploaded POM (extension pom, no classifier), if any,
// keeping its bytes for the write.
func pomOf(assets []uploadAsset) (*POM, error) {
	for i := range assets {
		as := &assets[i]
		if as.extension != "pom" || as.classifier != "" {
			continue
		}
		rc, err := as.file.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxUploadPOM+1))
		rc.Close()
		if err != nil {
			return nil, err
		}
		if len(data) > maxUploadPOM {
			return nil, &errs.FieldError{Field: "pom", Message: "the POM is too large"}
		}
		pom, err := ParsePOM(data)
		if err != nil {
			return nil, &errs.FieldError{Field: "pom", Message: "the POM could not be parsed: " + err.Error()}
		}
		as.body = data
		return pom, nil
	}
	return nil, nil
}

// generatedPOM is the minimal POM Nexus writes for generate-pom.
func generatedPOM(g, a, v, packaging string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<project xmlns="http://maven.apache.org/POM/4.0.0">` + "\n")
	b.WriteString("  <modelVersion>4.0.0</modelVersion>\n")
	for _, e := range [][2]string{{"groupId", g}, {"artifactId", a}, {"version", v}, {"packaging", packaging}} {
		b.WriteString("  <" + e[0] + ">")
		xml.EscapeText(&b, []byte(e[1]))
		b.WriteString("</" + e[0] + ">\n")
	}
	b.WriteString("</project>\n")
	return b.Bytes()
}
