package auth

import "wardmail/store"

// RevokedSentence is what a door tells a client whose open session it ends
// because the person's credentials were revoked (store/revoke.go): IMAP
// "* BYE <sentence>", SMTP "421 4.7.0 <sentence>".
func RevokedSentence(reason string) string {
	switch reason {
	case store.RevokedDisabled:
		return "Your account has been disabled; ask your IT service desk."
	case store.RevokedSignOut:
		return "You signed out everywhere; sign in again."
	case store.RevokedAppPassword:
		return "The app password this device used was revoked; create a new one in Settings."
	default:
		return "Your password was changed; sign in again with the new one."
	}
}
