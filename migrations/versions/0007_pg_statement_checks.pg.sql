CREATE FUNCTION jz_voucher_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad boolean;
BEGIN
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, period FROM n) k
      WHERE (SELECT p.status FROM period p
             WHERE p.entity_id = k.entity_id AND p.period = k.period) = 'closed')$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_voucher_inserted AFTER INSERT ON voucher REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION jz_voucher_inserted()
------
CREATE FUNCTION jz_voucher_updated() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad boolean;
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
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM n, LATERAL (
          SELECT COALESCE(SUM((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)), 0) AS total, COUNT(*) AS lines
          FROM voucher_line l
          WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id AND l.line_no > 0) x
      WHERE n.status = 'posted' AND (x.total <> 0 OR x.lines < 2))$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the voucher does not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1
      FROM (SELECT DISTINCT entity_id, period FROM n WHERE status = 'posted') k,
      LATERAL (SELECT COUNT(*) AS posted, MAX(v.number) AS last FROM voucher v
               WHERE v.entity_id = k.entity_id AND v.status = 'posted'
               AND v.period = k.period) x
      WHERE x.last <> x.posted)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: voucher numbers must run without gaps' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id FROM n WHERE status = 'posted') e
      WHERE (SELECT COALESCE(SUM(b.amount_fen), 0) FROM opening_balance b
             WHERE b.entity_id = e.entity_id) <> 0)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the opening balances do not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM n, LATERAL (SELECT l.account_code, l.side, l.amount_fen, l.custody_entry_id
        FROM voucher_line l WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id
        AND l.line_no > 0 OFFSET 0) l
      WHERE n.status = 'posted' AND COALESCE(l.custody_entry_id, 0) = 0
      AND (SELECT a.custody FROM account a
           WHERE a.entity_id = n.entity_id AND a.code = l.account_code) IS NOT NULL)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: a custody-account line is not backed by a custody entry' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM n, LATERAL (SELECT l.account_code, l.side, l.amount_fen, l.custody_entry_id
        FROM voucher_line l WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id
        AND l.line_no > 0 OFFSET 0) l,
      LATERAL (SELECT c.amount_fen FROM custody_entry c
               WHERE c.entity_id = n.entity_id AND c.id = l.custody_entry_id OFFSET 0) c
      WHERE n.status = 'posted' AND l.custody_entry_id IS NOT NULL
      AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
           <> (CASE n.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)
        OR (SELECT COALESCE(SUM((CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)), 0) FROM voucher_line l2
            WHERE l2.entity_id = n.entity_id AND l2.custody_entry_id = l.custody_entry_id
            AND (SELECT v.status FROM voucher v WHERE v.entity_id = l2.entity_id AND v.id = l2.voucher_id) = 'posted')
           NOT IN (0, c.amount_fen)))$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: custody entry and voucher lines disagree or back twice' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$INSERT INTO account_balance
      (entity_id, account_code, period, debit_fen, credit_fen)
    SELECT n.entity_id, l.account_code, n.period,
           SUM(CASE l.side WHEN 'D' THEN l.amount_fen ELSE 0 END),
           SUM(CASE l.side WHEN 'C' THEN l.amount_fen ELSE 0 END)
    FROM n, LATERAL (SELECT l.account_code, l.side, l.amount_fen, l.custody_entry_id
        FROM voucher_line l WHERE l.entity_id = n.entity_id AND l.voucher_id = n.id
        AND l.line_no > 0 OFFSET 0) l
    WHERE n.status = 'posted' GROUP BY n.entity_id, l.account_code, n.period
    ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
      debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
      credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen$q$;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_voucher_updated AFTER UPDATE ON voucher REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION jz_voucher_updated()
------
CREATE FUNCTION jz_line_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad boolean;
BEGIN
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, voucher_id FROM n) k
      WHERE (SELECT v.status FROM voucher v WHERE v.entity_id = k.entity_id AND v.id = k.voucher_id) = 'posted')$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, voucher_id FROM n) k
      WHERE (SELECT p.status FROM voucher v
             JOIN period p ON p.entity_id = v.entity_id AND p.period = v.period
             WHERE v.entity_id = k.entity_id AND v.id = k.voucher_id) = 'closed')$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT 1 FROM account a WHERE a.entity_id = k.entity_id
             AND a.parent_code = k.account_code LIMIT 1) IS NOT NULL)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: postings go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_line_inserted AFTER INSERT ON voucher_line REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION jz_line_inserted()
------
CREATE FUNCTION jz_custody_inserted() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  bad boolean;
BEGIN
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT a.custody FROM account a
             WHERE a.entity_id = k.entity_id AND a.code = k.account_code) IS NULL)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: custody entries go to cash or bank accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, account_code FROM n) k
      WHERE (SELECT 1 FROM account a WHERE a.entity_id = k.entity_id
             AND a.parent_code = k.account_code LIMIT 1) IS NOT NULL)$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: custody entries go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  EXECUTE $q$SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT entity_id, period FROM n) k
      WHERE (SELECT p.status FROM period p
             WHERE p.entity_id = k.entity_id AND p.period = k.period) = 'closed')$q$ INTO bad;
  IF bad THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_custody_inserted AFTER INSERT ON custody_entry REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION jz_custody_inserted()
