"""Write-ups: organisers' reports of meetings (or standalone posts), with replies and a feed."""
