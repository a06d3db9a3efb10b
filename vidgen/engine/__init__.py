"""The render service and what runs it: the Node process, the daemon, its client, the jail, the browser."""
