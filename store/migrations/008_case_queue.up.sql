-- The caseworkers' queue: open cases, the most urgent first, then by the deadline they face
-- next (acknowledge, refer or resolve). Read in this order and cut at a page, so the queue
-- stays fast with hundreds of thousands of cases.
CREATE INDEX cases_open_queue_idx ON cases (
    (CASE priority WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'normal' THEN 2 ELSE 1 END) DESC,
    (CASE status WHEN 'new' THEN ack_due_at WHEN 'acknowledged' THEN refer_due_at ELSE resolve_due_at END),
    id)
    WHERE status IN ('new', 'acknowledged', 'referred', 'in_progress');
-- A selective filter (a site, a category) is read through its own index and sorted, rather
-- than by walking the whole queue in order.
CREATE INDEX cases_open_site_idx ON cases (site) WHERE status IN ('new', 'acknowledged', 'referred', 'in_progress');
CREATE INDEX cases_open_category_idx ON cases (category) WHERE status IN ('new', 'acknowledged', 'referred', 'in_progress');
