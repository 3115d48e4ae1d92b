package points_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/civicloop/civicloop/org"
	"github.com/civicloop/civicloop/points"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

// TestCertificateGolden issues a certificate for two confirmed records (a
// draft is left out) and compares its text and JSON with the golden files.
func TestCertificateGolden(t *testing.T) {
	ctx := context.Background()
	svc, _ := exampleWorld()
	station := org.Actor{ID: "li", Role: org.RoleAdmin, Scope: "JT-DC-01"}
	for i, act := range []points.Activity{
		{Name: "学雷锋 敬老助老", Category: "elderly", Place: "社区养老服务站", Content: "陪伴老人"},
		{Name: "文明交通劝导", Category: "traffic", Place: "华城路口", Content: "劝导行人"},
		{Name: "草稿", Category: "traffic", Place: "-", Content: "not confirmed"},
	} {
		act.Start = time.Date(2026, 3, 5+i, 9, 0, 0, 0, time.UTC)
		act.End = act.Start.Add(time.Duration(2+i) * time.Hour)
		rec, err := svc.RecordService(ctx, station, points.RecordInput{Volunteer: "V001", Organiser: "JT-DC-01", Activity: act, SignIn: act.Start, SignOut: act.End})
		require.NoError(t, err)
		if i < 2 {
			_, err = svc.Confirm(ctx, station, rec.ID)
			require.NoError(t, err)
		}
	}
	institute := org.Actor{ID: "wang", Role: org.RoleAdmin, Scope: "JT-DC"}
	c, err := svc.IssueCertificate(ctx, institute, points.CertificateRequest{Volunteer: "V001",
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		Issuer: "JT-DC", IssuerName: "东城街道新时代文明实践所"})
	require.NoError(t, err)
	golden(t, "certificate.txt", []byte(c.Text()))
	js, err := c.JSON()
	require.NoError(t, err)
	golden(t, "certificate.json", append(js, '\n'))
	again, err := svc.Certificate(ctx, c.Number)
	require.NoError(t, err)
	require.Equal(t, c.Text(), again.Text(), "the register reproduces it")
}
