package mountinfo

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"/sys/fs/cgroup", "/sys/fs/cgroup"},
		{`/mnt/with\040space`, "/mnt/with space"},
		{`/tab\011and\134back`, "/tab\tand\\back"},
		{`/new\012line`, "/new\nline"},
		{`\040`, " "},
		{`\040\040`, "  "},
		{`/high\377`, "/high\xff"},
		{`/trailing\04`, `/trailing\04`}, // too short to be an escape
		{`/trailing\`, `/trailing\`},
		{`/not\08octal`, `/not\08octal`},
		{`/too\400big`, `/too\400big`}, // more than a byte
		{`/sign\+12`, `/sign\+12`},
		{`/double\\040`, `/double\ `}, // the first backslash is not an escape
	} {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const sample = `22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
28 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
40 28 0:40 / /srv/vr rw,relatime shared:20 - tmpfs tmpfs rw
41 40 0:41 / /srv/vr/procs/a rw,relatime shared:21 - overlay overlay rw,lowerdir=/x
42 41 0:42 / /srv/vr/procs/a/proc rw,relatime shared:22 - proc proc rw
43 40 0:43 / /srv/vr/procs/with\040space rw,relatime shared:23 - tmpfs tmpfs rw
44 40 0:44 / /srv/vr/procsibling rw,relatime shared:24 - tmpfs tmpfs rw
45 40 0:45 / /srv/vr/procs/a rw,relatime shared:25 - tmpfs tmpfs rw
short line
`

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"/srv/vr/procs", []string{"/srv/vr/procs/a", "/srv/vr/procs/with space", "/srv/vr/procs/a/proc", "/srv/vr/procs/a"}},
		{"/srv/vr/procs/a", []string{"/srv/vr/procs/a", "/srv/vr/procs/a/proc", "/srv/vr/procs/a"}},
		{"/srv/vr/procs/with space", []string{"/srv/vr/procs/with space"}},
		{"/srv/vr", []string{"/srv/vr/procs/a", "/srv/vr/procsibling", "/srv/vr/procs/with space",
			"/srv/vr/procs/a/proc", "/srv/vr/procs/a", "/srv/vr"}},
		{"/srv/v", nil},
		{"/nowhere", nil},
	} {
		got, err := parse(strings.NewReader(sample), tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("parse(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

func TestParseNoTrailingNewline(t *testing.T) {
	got, err := parse(strings.NewReader("40 28 0:40 / /srv rw - tmpfs tmpfs rw"), "/srv")
	if err != nil || !slices.Equal(got, []string{"/srv"}) {
		t.Errorf("parse = %q, %v", got, err)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	if _, err := parse(iotest.ErrReader(boom), "/"); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
}

func TestBelowRoot(t *testing.T) {
	if _, err := os.Stat(File); err != nil {
		t.Skipf("no %s: %v", File, err)
	}
	mps, err := Below("/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(mps, "/") {
		t.Errorf("Below(/) = %q, want it to hold /", mps)
	}
}
