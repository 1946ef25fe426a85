-- Posting's checks and running balances in one pass over the posted
-- vouchers' lines (0007 read them four times), the custody totals once per
-- entry (0007 summed them twice per line: NOT IN (0, x) evaluates its left
-- side for each value), and the numbering checked for the numbers posted
-- (0007 counted every posted voucher of the month again for each
-- statement).  What is refused, and in which order, is 0007's.
CREATE OR REPLACE FUNCTION jz_voucher_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad boolean;
  unbalanced boolean;
  gap boolean;
  opening boolean;
  unbacked boolean;
  disagree boolean;
  twice boolean;
BEGIN
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, period FROM (SELECT entity_id, period FROM o UNION ALL SELECT entity_id, period FROM n) b) k
      WHERE (SELECT p.status FROM period p
             WHERE p.entity_id = k.entity_id AND p.period = k.period) = 'closed')$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM n WHERE status = 'posted') THEN
    RETURN NULL;
  END IF;
  -- A posted voucher is never updated (jz_voucher_never_changed), so every
  -- posted row of n is posted by this statement.  Its numbers run without
  -- gaps when each number above 1 has its predecessor posted in the month:
  -- the month's numbers before the statement ran 1..m (this check, each
  -- time), numbers are unique (uq_voucher_entity_id_period_number) and
  -- positive (ck_voucher_number).  The predecessor is found by the month's
  -- number (uq_voucher_entity_id_period_number): asked for its status too,
  -- the planner walked ix_voucher_status through the month's posted
  -- vouchers for each number.  The running balances are added in the same
  -- statement; a refusal below rolls them back with the rest.
  EXECUTE $q$WITH p AS MATERIALIZED (
        SELECT entity_id, id, kind, period, number FROM n WHERE status = 'posted'),
      lines AS MATERIALIZED (
        SELECT p.entity_id, p.id AS voucher_id, p.kind, p.period, l.account_code, l.side,
               l.amount_fen, CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS signed,
               l.custody_entry_id
        FROM p, LATERAL (SELECT l.account_code, l.side, l.amount_fen, l.custody_entry_id
            FROM voucher_line l WHERE l.entity_id = p.entity_id AND l.voucher_id = p.id
            AND l.line_no > 0 OFFSET 0) l),
      totals AS (
        SELECT entity_id, voucher_id, SUM(signed) AS total, COUNT(*) AS lines
        FROM lines GROUP BY entity_id, voucher_id),
      added AS (
        INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
        SELECT entity_id, account_code, period,
               SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
               SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
        FROM lines GROUP BY entity_id, account_code, period
        ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
          debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
          credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen
        RETURNING 1)
    SELECT
      EXISTS (SELECT 1 FROM p LEFT JOIN totals t ON t.entity_id = p.entity_id AND t.voucher_id = p.id
              WHERE COALESCE(t.total, 0) <> 0 OR COALESCE(t.lines, 0) < 2),
      EXISTS (SELECT 1 FROM p WHERE p.number > 1
              AND (SELECT v.status FROM voucher v WHERE v.entity_id = p.entity_id
                   AND v.period = p.period AND v.number = p.number - 1) IS DISTINCT FROM 'posted'),
      EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id FROM p) e
              WHERE (SELECT COALESCE(SUM(b.amount_fen), 0) FROM opening_balance b
                     WHERE b.entity_id = e.entity_id) <> 0),
      EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM lines
                             WHERE COALESCE(custody_entry_id, 0) = 0) k
              JOIN account a ON a.entity_id = k.entity_id AND a.code = k.account_code
              WHERE a.custody IS NOT NULL),
      EXISTS (SELECT 1 FROM lines l, LATERAL (SELECT c.amount_fen FROM custody_entry c
                  WHERE c.entity_id = l.entity_id AND c.id = l.custody_entry_id OFFSET 0) c
              WHERE l.custody_entry_id IS NOT NULL
              AND l.signed <> (CASE l.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)),
      EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, custody_entry_id FROM lines
                             WHERE custody_entry_id IS NOT NULL) e,
                  LATERAL (SELECT c.amount_fen FROM custody_entry c
                  WHERE c.entity_id = e.entity_id AND c.id = e.custody_entry_id OFFSET 0) c,
                  LATERAL (SELECT COALESCE(SUM((CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)), 0) AS backed
                     FROM voucher_line l2
                     WHERE l2.entity_id = e.entity_id AND l2.custody_entry_id = e.custody_entry_id
                     AND (SELECT v.status FROM voucher v
                          WHERE v.entity_id = l2.entity_id AND v.id = l2.voucher_id) = 'posted') s
              WHERE s.backed NOT IN (0, c.amount_fen)),
      (SELECT count(*) > 0 FROM added)$q$
    INTO unbalanced, gap, opening, unbacked, disagree, twice, bad;
  IF unbalanced THEN
    RAISE EXCEPTION 'juzhang: the voucher does not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF gap THEN
    RAISE EXCEPTION 'juzhang: voucher numbers must run without gaps' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF opening THEN
    RAISE EXCEPTION 'juzhang: the opening balances do not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF unbacked THEN
    RAISE EXCEPTION 'juzhang: a custody-account line is not backed by a custody entry' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF disagree OR twice THEN
    RAISE EXCEPTION 'juzhang: custody entry and voucher lines disagree or back twice' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
