-- An answer's alert is about the contact in the wave, not about the one answer: a contact who
-- answers again in the same wave (a corrected score, a longer comment) joins the follow-up
-- already open instead of raising a second alert, task and email (alerts::settle_answers).
-- Alerts raised before this version were keyed by their answer ('answer:<response id>'):
-- each contact's first one in a wave takes the new key, so their next answer joins it; a
-- contact's later duplicates keep their old key, as the history they are.
UPDATE alerts SET key = k.new_key
FROM (
    SELECT a.id, 'contact:' || r.contact_id || ':wave:' || a.wave_id AS new_key,
           row_number() OVER (PARTITION BY r.contact_id, a.wave_id ORDER BY a.id) AS n
    FROM alerts a JOIN responses r ON r.id = a.response_id
    WHERE a.key LIKE 'answer:%' AND a.wave_id IS NOT NULL
) k
WHERE alerts.id = k.id AND k.n = 1;
