"""One sender per channel type; ``pulse.notify.channels.dispatch.send`` picks the right one."""
