CREATE FUNCTION jz_grant_separation() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (NEW.role = 'cashier' AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role IN ('bookkeeper', 'reviewer', 'admin')))
         OR (NEW.role IN ('bookkeeper', 'reviewer', 'admin') AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role = 'cashier')) THEN
    RAISE EXCEPTION 'juzhang: 钱账分离 a cashier may not hold a books-side role for the same entity' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_grant_separation BEFORE INSERT ON role_grant FOR EACH ROW EXECUTE FUNCTION jz_grant_separation()
------
CREATE FUNCTION jz_grant_no_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TRUE THEN
    RAISE EXCEPTION 'juzhang: role grants are never updated' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_grant_no_update BEFORE UPDATE ON role_grant FOR EACH ROW EXECUTE FUNCTION jz_grant_no_update()
------
CREATE FUNCTION jz_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TRUE THEN
    RAISE EXCEPTION 'juzhang: the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_audit_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION jz_audit_append_only()
------
CREATE FUNCTION jz_account_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.parent_code IS NOT NULL AND (
        EXISTS (SELECT 1 FROM voucher_line WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code)
        OR EXISTS (SELECT 1 FROM opening_balance WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code)
        OR EXISTS (SELECT 1 FROM custody_entry WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code)) THEN
    RAISE EXCEPTION 'juzhang: the parent account already has postings' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_account_insert BEFORE INSERT ON account FOR EACH ROW EXECUTE FUNCTION jz_account_insert()
------
CREATE FUNCTION jz_account_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF (NEW.code <> OLD.code OR NEW.entity_id <> OLD.entity_id
          OR NEW.parent_code IS DISTINCT FROM OLD.parent_code
          OR NEW.category <> OLD.category OR NEW.side <> OLD.side
          OR NEW.custody IS DISTINCT FROM OLD.custody)
        AND (EXISTS (SELECT 1 FROM voucher_line WHERE entity_id = OLD.entity_id
                AND account_code = OLD.code)
          OR EXISTS (SELECT 1 FROM custody_entry WHERE entity_id = OLD.entity_id
                AND account_code = OLD.code)) THEN
    RAISE EXCEPTION 'juzhang: an account with postings keeps its code and kind' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_account_update BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION jz_account_update()
------
CREATE FUNCTION jz_opening_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM voucher WHERE entity_id = NEW.entity_id AND status = 'posted') THEN
    RAISE EXCEPTION 'juzhang: opening balances are fixed once vouchers are posted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND parent_code = NEW.account_code) THEN
    RAISE EXCEPTION 'juzhang: postings go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_opening_insert BEFORE INSERT ON opening_balance FOR EACH ROW EXECUTE FUNCTION jz_opening_insert()
------
CREATE FUNCTION jz_opening_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM voucher WHERE entity_id = OLD.entity_id AND status = 'posted') THEN
    RAISE EXCEPTION 'juzhang: opening balances are fixed once vouchers are posted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
END $fn$
------
CREATE TRIGGER jz_opening_change BEFORE UPDATE OR DELETE ON opening_balance FOR EACH ROW EXECUTE FUNCTION jz_opening_change()
------
CREATE FUNCTION jz_custody_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND code = NEW.account_code AND custody IS NOT NULL) THEN
    RAISE EXCEPTION 'juzhang: custody entries go to cash or bank accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id AND parent_code = NEW.account_code) THEN
    RAISE EXCEPTION 'juzhang: custody entries go to leaf accounts only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id AND period = NEW.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_custody_insert BEFORE INSERT ON custody_entry FOR EACH ROW EXECUTE FUNCTION jz_custody_insert()
------
CREATE FUNCTION jz_custody_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE TRIGGER jz_custody_update BEFORE UPDATE ON custody_entry FOR EACH ROW EXECUTE FUNCTION jz_custody_update()
------
CREATE FUNCTION jz_custody_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
------
CREATE TRIGGER jz_custody_delete BEFORE DELETE ON custody_entry FOR EACH ROW EXECUTE FUNCTION jz_custody_delete()
------
CREATE FUNCTION jz_voucher_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.status <> 'draft' THEN
    RAISE EXCEPTION 'juzhang: a voucher is inserted as a draft' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id AND period = NEW.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_voucher_insert BEFORE INSERT ON voucher FOR EACH ROW EXECUTE FUNCTION jz_voucher_insert()
------
CREATE FUNCTION jz_voucher_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.status = 'posted' THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never changed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id AND period = OLD.period AND status = 'closed') OR EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id AND period = NEW.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.entity_id <> OLD.entity_id OR NEW.id <> OLD.id THEN
    RAISE EXCEPTION 'juzhang: a voucher keeps its entity and id' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $fn$
------
CREATE TRIGGER jz_voucher_update BEFORE UPDATE ON voucher FOR EACH ROW EXECUTE FUNCTION jz_voucher_update()
------
CREATE FUNCTION jz_voucher_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.status = 'posted' THEN
    RAISE EXCEPTION 'juzhang: a posted voucher is never deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id AND period = OLD.period AND status = 'closed') THEN
    RAISE EXCEPTION 'juzhang: the period is closed' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN OLD;
END $fn$
------
CREATE TRIGGER jz_voucher_delete BEFORE DELETE ON voucher FOR EACH ROW EXECUTE FUNCTION jz_voucher_delete()
------
CREATE FUNCTION jz_voucher_post() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.status = 'posted' THEN
  IF (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)
          FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) <> 0
        OR (SELECT COUNT(*) FROM voucher_line
          WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) < 2 THEN
    RAISE EXCEPTION 'juzhang: the voucher does not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.number > 1 AND NOT EXISTS (SELECT 1 FROM voucher
          WHERE entity_id = NEW.entity_id AND period = NEW.period
          AND number = NEW.number - 1 AND status = 'posted') THEN
    RAISE EXCEPTION 'juzhang: voucher numbers must run without gaps' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance
          WHERE entity_id = NEW.entity_id) <> 0 THEN
    RAISE EXCEPTION 'juzhang: the opening balances do not balance' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN account a
          ON a.entity_id = l.entity_id AND a.code = l.account_code
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
          AND a.custody IS NOT NULL AND l.custody_entry_id IS NULL) THEN
    RAISE EXCEPTION 'juzhang: a custody-account line is not backed by a custody entry' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM voucher_line l JOIN custody_entry c
          ON c.entity_id = l.entity_id AND c.id = l.custody_entry_id
          WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
          AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
               <> (CASE NEW.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)
          OR (SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)
               FROM voucher_line l2 JOIN voucher v2
               ON v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id
               WHERE l2.entity_id = l.entity_id
               AND l2.custody_entry_id = l.custody_entry_id
               AND v2.status = 'posted') NOT IN (0, c.amount_fen))) THEN
    RAISE EXCEPTION 'juzhang: custody entry and voucher lines disagree or back twice' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
    INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
      SELECT NEW.entity_id, account_code, NEW.period,
             SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
             SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
      FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
      GROUP BY account_code
      ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
        debit_fen = account_balance.debit_fen + EXCLUDED.debit_fen,
        credit_fen = account_balance.credit_fen + EXCLUDED.credit_fen;
  END IF;
  RETURN NULL;
END $fn$
------
CREATE TRIGGER jz_voucher_post AFTER UPDATE OF status ON voucher FOR EACH ROW EXECUTE FUNCTION jz_voucher_post()
------
CREATE FUNCTION jz_line_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE TRIGGER jz_line_insert BEFORE INSERT ON voucher_line FOR EACH ROW EXECUTE FUNCTION jz_line_insert()
------
CREATE FUNCTION jz_line_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE TRIGGER jz_line_update BEFORE UPDATE ON voucher_line FOR EACH ROW EXECUTE FUNCTION jz_line_update()
------
CREATE FUNCTION jz_line_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
CREATE TRIGGER jz_line_delete BEFORE DELETE ON voucher_line FOR EACH ROW EXECUTE FUNCTION jz_line_delete()
