"""What every page shares: Markdown, security headers, error pages, time display, redirects."""
