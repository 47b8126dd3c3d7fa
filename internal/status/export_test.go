package status

// Unexported rules the external tests check directly.
var (
	NextPoll        = nextPoll
	HideCredentials = hideCredentials
)
