"""Transactional outbox: events written with the change that caused them, published to EventBridge
afterwards by ``publish_pending`` (right after commit, and every minute as a sweeper)."""
