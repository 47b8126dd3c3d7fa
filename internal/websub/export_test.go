package websub

import "time"

// SetRetry shortens the back-off for tests.
func (p *Publisher) SetRetry(waits ...time.Duration) { p.retry = waits }
