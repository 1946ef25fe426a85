CREATE OR REPLACE FUNCTION jz_voucher_post() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  line record;
  entry_fen bigint;
  backed numeric;
BEGIN
  IF NEW.status = 'posted' THEN
  IF (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)
          FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
          AND line_no > 0) <> 0
        OR (SELECT COUNT(*) FROM voucher_line
          WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id AND line_no > 0) < 2 THEN
    RAISE EXCEPTION 'juzhang: the voucher does not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.number > 1 AND (SELECT status FROM voucher
          WHERE entity_id = NEW.entity_id AND period = NEW.period
          AND number = NEW.number - 1) IS DISTINCT FROM 'posted' THEN
    RAISE EXCEPTION 'juzhang: voucher numbers must run without gaps' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance
          WHERE entity_id = NEW.entity_id) <> 0 THEN
    RAISE EXCEPTION 'juzhang: the opening balances do not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN account a
          ON a.entity_id = l.entity_id AND a.code = l.account_code
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id AND l.line_no > 0
          AND a.custody IS NOT NULL AND COALESCE(l.custody_entry_id, 0) = 0) THEN
    RAISE EXCEPTION 'juzhang: a custody-account line is not backed by a custody entry' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  FOR line IN SELECT l.custody_entry_id AS entry,
          CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS signed
          FROM voucher_line l
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id AND l.line_no > 0
          AND l.custody_entry_id IS NOT NULL LOOP
    SELECT c.amount_fen INTO entry_fen FROM custody_entry c
      WHERE c.entity_id = NEW.entity_id AND c.id = line.entry;
    SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END) INTO backed
      FROM voucher_line l2
      WHERE l2.entity_id = NEW.entity_id AND l2.custody_entry_id = line.entry
      AND (SELECT v2.status FROM voucher v2
           WHERE v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id) = 'posted';
    IF line.signed <> (CASE NEW.kind WHEN 'reversal' THEN -entry_fen ELSE entry_fen END)
        OR backed NOT IN (0, entry_fen) THEN
      RAISE EXCEPTION 'juzhang: custody entry and voucher lines disagree or back twice' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  END LOOP;
    INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
      SELECT NEW.entity_id, account_code, NEW.period,
             SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
             SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
      FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
      AND line_no > 0 GROUP BY account_code
      ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
        debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
        credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen;
  END IF;
  RETURN NULL;
END $fn$
------
CREATE OR REPLACE FUNCTION jz_line_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT status FROM voucher WHERE entity_id = NEW.entity_id AND id = NEW.voucher_id) = 'posted' THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher v JOIN period p
      ON p.entity_id = v.entity_id AND p.period = v.period
      WHERE v.entity_id = NEW.entity_id AND v.id = NEW.voucher_id AND p.status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND parent_code = NEW.account_code) THEN
    RAISE EXCEPTION 'juzhang: postings go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE OR REPLACE FUNCTION jz_line_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT status FROM voucher WHERE entity_id = OLD.entity_id AND id = OLD.voucher_id) = 'posted' OR (SELECT status FROM voucher WHERE entity_id = NEW.entity_id AND id = NEW.voucher_id) = 'posted' THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher v JOIN period p
      ON p.entity_id = v.entity_id AND p.period = v.period
      WHERE v.entity_id = OLD.entity_id AND v.id = OLD.voucher_id AND p.status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND parent_code = NEW.account_code) THEN
    RAISE EXCEPTION 'juzhang: postings go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE OR REPLACE FUNCTION jz_line_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (SELECT status FROM voucher WHERE entity_id = OLD.entity_id AND id = OLD.voucher_id) = 'posted' THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher v JOIN period p
      ON p.entity_id = v.entity_id AND p.period = v.period
      WHERE v.entity_id = OLD.entity_id AND v.id = OLD.voucher_id AND p.status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN OLD;
END $fn$
------
CREATE OR REPLACE FUNCTION jz_custody_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM voucher_line l
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND (SELECT v.status FROM voucher v
           WHERE v.entity_id = l.entity_id AND v.id = l.voucher_id) = 'posted') THEN
    RAISE EXCEPTION 'juzhang: the custody entry backs a posted voucher' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id AND period = OLD.period AND status = 'closed') OR EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id AND period = NEW.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND code = NEW.account_code AND custody IS NOT NULL) THEN
    RAISE EXCEPTION 'juzhang: custody entries go to cash or bank accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE OR REPLACE FUNCTION jz_custody_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM voucher_line l
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND (SELECT v.status FROM voucher v
           WHERE v.entity_id = l.entity_id AND v.id = l.voucher_id) = 'posted') THEN
    RAISE EXCEPTION 'juzhang: the custody entry backs a posted voucher' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id AND period = OLD.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN OLD;
END $fn$
