-- Two indexes on deliveries that no query uses, dropped: every delivery written paid for them (the
-- escalation engine writes ~30,000 in a tick of 10,000 alerts; they were ~15% of that INSERT).
--
-- deliveries_by_alert (tenant_id, alert_id) and deliveries_by_notification (notification_id) were
-- meant for "the deliveries of an alert / of a notification". The only filters on those columns are
-- the delivery log's and the dead letters' alert and event filters, written
--     alert_id = $1 OR notification_id IN (SELECT id FROM notifications WHERE $1 = ANY(alert_ids))
-- (an event id: event_id = $1 OR ...): an OR whose second arm is a hashed subplan is a filter, so the
-- planner walks deliveries_newest / deliveries_dead / deliveries_by_channel and neither index is ever
-- chosen (EXPLAIN on a tenant with 30,000 deliveries). The FK deliveries.notification_id keeps its
-- check on insert; an index on it only serves deleting notifications or changing their id, which
-- nothing does (notifications are closed, never deleted).
DROP INDEX deliveries_by_alert;
DROP INDEX deliveries_by_notification;
