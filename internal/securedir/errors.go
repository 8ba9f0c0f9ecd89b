package securedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os/user"
	"strconv"
	"strings"
)

// ErrUnsafe is matched (errors.Is) by every *[Error].
var ErrUnsafe = errors.New("unsafe directory")

// Problem is what makes a directory unsafe.
type Problem int

// Problems an [Error] reports.
const (
	// OwnedByOther: the directory (or a parent, or a link) belongs to a
	// user who is neither the release's nor root.
	OwnedByOther Problem = iota + 1
	// WritableByOthers: the directory itself is writable by group or
	// others.
	WritableByOthers
	// ParentWritable: a parent is writable by group or others and has no
	// sticky bit.
	ParentWritable
	// NotDirectory: a component of the path is neither a directory nor a
	// symbolic link to one.
	NotDirectory
	// TooManyLinks: more than 40 symbolic links were followed.
	TooManyLinks
)

// Error is a directory refused by [Ensure] or [Check].
type Error struct {
	// Path is the directory asked for, as given.
	Path string
	// Abs is Path made absolute and cleaned, before links are resolved.
	Abs string
	// Dir is what breaks a rule: Path itself, one of its parents, or a
	// symbolic link on the way (with links resolved up to it).
	Dir string
	// Link is true when Dir is a symbolic link.
	Link bool
	// Parent is true when Dir is a parent of Path rather than Path itself.
	Parent bool
	// Problem says which rule Dir breaks.
	Problem Problem
	// UID is Dir's owner; Owner its name ("" when unknown).
	UID   int
	Owner string
	// Mode is Dir's type and permission bits.
	Mode fs.FileMode
	// User is the uid that may own the directory besides root; UserName
	// its name ("" when unknown).
	User     int
	UserName string
}

func (e *Error) Unwrap() error { return ErrUnsafe }

// Error says what is wrong, why it matters and how to fix it, e.g.
//
//	unsafe directory /tmp/app/tmp: owned by mallory (uid 1001), mode 0700;
//	only root or the release's user root (uid 0) may own it, or its owner
//	can replace the control socket and the files in it. Fix: check what it
//	holds, then run `chown root:root /tmp/app/tmp && chmod 0700
//	/tmp/app/tmp` as root, or choose another directory
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("unsafe directory ")
	b.WriteString(e.Path)
	var what string
	switch {
	case e.Link:
		what = "symbolic link " + e.Dir + " on its path"
	case e.Parent:
		what = "its parent " + e.Dir
	case e.Dir != e.Abs:
		what = "it (" + e.Dir + " with links resolved)"
	}
	b.WriteString(": ")
	if what != "" {
		b.WriteString(what)
		b.WriteString(" is ")
	}
	stat := fmt.Sprintf("owned by %s, mode %s", who(e.UID, e.Owner), octal(e.Mode))
	user := who(e.User, e.UserName)
	switch e.Problem {
	case OwnedByOther:
		fmt.Fprintf(&b, "%s; only root or the release's user %s may own it", stat, user)
		switch {
		case e.Link:
			b.WriteString(", or its owner can point it anywhere. Fix: choose a path without that link, or have root recreate it")
		case e.Parent:
			fmt.Fprintf(&b, ", or its owner can replace everything below it. Fix: choose a directory that is not under %s", e.Dir)
		default:
			fmt.Fprintf(&b, ", or its owner can replace the control socket and the files in it. Fix: check what it holds, then run `chown %s %s && chmod 0700 %s` as root, or choose another directory", chownTo(e.User, e.UserName), e.Dir, e.Dir)
		}
	case WritableByOthers:
		fmt.Fprintf(&b, "%s, writable by %s, so they can replace the control socket and the files in it. ", stat, writers(e.Mode))
		if e.Mode&fs.ModeSticky != 0 {
			fmt.Fprintf(&b, "Fix: it is a shared directory like /tmp; choose a directory of the release's own instead, such as a new one below it (%s/NAME), which relkit creates 0700", strings.TrimSuffix(e.Dir, "/"))
		} else {
			fmt.Fprintf(&b, "Fix: check what it holds, then run `chmod 0700 %s`", e.Dir)
		}
	case ParentWritable:
		fmt.Fprintf(&b, "%s, writable by %s without the sticky bit, so they can replace everything below it. Fix: run `chmod go-w %s` (or `chmod +t %s` if it is shared like /tmp), or choose a directory that is not under %s", stat, writers(e.Mode), e.Dir, e.Dir, e.Dir)
	case NotDirectory:
		fmt.Fprintf(&b, "not a directory (%s). Fix: move it away, or choose another directory", stat)
	case TooManyLinks:
		b.WriteString("reached through more than 40 symbolic links. Fix: choose a path without a link loop")
	}
	return b.String()
}

func writers(m fs.FileMode) string {
	switch {
	case m&0o020 != 0 && m&0o002 != 0:
		return "its group and others"
	case m&0o020 != 0:
		return "its group"
	}
	return "others"
}

func who(uid int, name string) string {
	if name == "" {
		return "uid " + strconv.Itoa(uid)
	}
	return fmt.Sprintf("%s (uid %d)", name, uid)
}

func chownTo(uid int, name string) string {
	switch {
	case uid == 0:
		return "root:root"
	case name != "":
		return name
	}
	return strconv.Itoa(uid)
}

// octal formats m the way chmod takes it: 0700, 1777, 2755.
func octal(m fs.FileMode) string {
	o := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		o |= 0o1000
	}
	if m&fs.ModeSetgid != 0 {
		o |= 0o2000
	}
	if m&fs.ModeSetuid != 0 {
		o |= 0o4000
	}
	return fmt.Sprintf("%04o", o)
}

// userName returns the login name of uid, "" when it has none.
func userName(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	return u.Username
}
