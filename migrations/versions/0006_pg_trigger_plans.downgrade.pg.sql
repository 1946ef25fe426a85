CREATE OR REPLACE FUNCTION jz_line_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM voucher WHERE entity_id = NEW.entity_id AND id = NEW.voucher_id AND status = 'posted') THEN
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
  IF EXISTS (SELECT 1 FROM voucher WHERE entity_id = OLD.entity_id AND id = OLD.voucher_id AND status = 'posted') OR EXISTS (SELECT 1 FROM voucher WHERE entity_id = NEW.entity_id AND id = NEW.voucher_id AND status = 'posted') THEN
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
  IF EXISTS (SELECT 1 FROM voucher WHERE entity_id = OLD.entity_id AND id = OLD.voucher_id AND status = 'posted') THEN
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
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
      ON v.entity_id = l.entity_id AND v.id = l.voucher_id
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND v.status = 'posted') THEN
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
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
      ON v.entity_id = l.entity_id AND v.id = l.voucher_id
      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
      AND v.status = 'posted') THEN
    RAISE EXCEPTION 'juzhang: the custody entry backs a posted voucher' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id AND period = OLD.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN OLD;
END $fn$
