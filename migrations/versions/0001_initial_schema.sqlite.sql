-- 钱账分离 in the grants themselves
CREATE TRIGGER jz_grant_separation BEFORE INSERT ON role_grant
    WHEN (NEW.role = 'cashier' AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role IN ('bookkeeper', 'reviewer', 'admin')))
      OR (NEW.role IN ('bookkeeper', 'reviewer', 'admin') AND EXISTS (SELECT 1 FROM role_grant g
            WHERE g.entity_id = NEW.entity_id AND g.user_id = NEW.user_id
            AND g.role = 'cashier'))
    BEGIN SELECT RAISE(ABORT, 'juzhang: 钱账分离 a cashier may not hold a books-side role for the same entity'); END
------
CREATE TRIGGER jz_grant_no_update BEFORE UPDATE ON role_grant
    BEGIN SELECT RAISE(ABORT, 'juzhang: role grants are never updated'); END
------
-- the audit log is append-only
CREATE TRIGGER jz_audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'juzhang: the audit log is append-only'); END
------
CREATE TRIGGER jz_audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'juzhang: the audit log is append-only'); END
------
-- accounts: no detail account under an account that already carries amounts
CREATE TRIGGER jz_account_insert BEFORE INSERT ON account
    WHEN NEW.parent_code IS NOT NULL AND (
        EXISTS (SELECT 1 FROM voucher_line WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code)
        OR EXISTS (SELECT 1 FROM opening_balance WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code)
        OR EXISTS (SELECT 1 FROM custody_entry WHERE entity_id = NEW.entity_id
                AND account_code = NEW.parent_code))
    BEGIN SELECT RAISE(ABORT, 'juzhang: the parent account already has postings'); END
------
CREATE TRIGGER jz_account_update BEFORE UPDATE ON account
    WHEN (NEW.code <> OLD.code OR NEW.entity_id <> OLD.entity_id
          OR NEW.parent_code IS NOT OLD.parent_code OR NEW.category <> OLD.category
          OR NEW.side <> OLD.side OR NEW.custody IS NOT OLD.custody)
     AND (EXISTS (SELECT 1 FROM voucher_line WHERE entity_id = OLD.entity_id
                AND account_code = OLD.code)
          OR EXISTS (SELECT 1 FROM custody_entry WHERE entity_id = OLD.entity_id
                AND account_code = OLD.code))
    BEGIN SELECT RAISE(ABORT, 'juzhang: an account with postings keeps its code and kind'); END
------
-- opening balances: leaf accounts only, frozen once anything is posted
CREATE TRIGGER jz_opening_insert BEFORE INSERT ON opening_balance
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: opening balances are fixed once vouchers are posted')
        WHERE EXISTS (SELECT 1 FROM voucher WHERE entity_id = NEW.entity_id
                      AND status = 'posted');
      SELECT RAISE(ABORT, 'juzhang: postings go to leaf accounts only')
        WHERE EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                      AND parent_code = NEW.account_code);
    END
------
CREATE TRIGGER jz_opening_update BEFORE UPDATE ON opening_balance
    WHEN EXISTS (SELECT 1 FROM voucher WHERE entity_id IN (OLD.entity_id, NEW.entity_id)
                 AND status = 'posted')
    BEGIN SELECT RAISE(ABORT, 'juzhang: opening balances are fixed once vouchers are posted');
    END
------
CREATE TRIGGER jz_opening_delete BEFORE DELETE ON opening_balance
    WHEN EXISTS (SELECT 1 FROM voucher WHERE entity_id = OLD.entity_id AND status = 'posted')
    BEGIN SELECT RAISE(ABORT, 'juzhang: opening balances are fixed once vouchers are posted');
    END
------
-- custody entries (the cashier's journals)
CREATE TRIGGER jz_custody_insert BEFORE INSERT ON custody_entry
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: custody entries go to cash or bank accounts only')
        WHERE NOT EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                          AND code = NEW.account_code AND custody IS NOT NULL);
      SELECT RAISE(ABORT, 'juzhang: custody entries go to leaf accounts only')
        WHERE EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                      AND parent_code = NEW.account_code);
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id
                      AND period = NEW.period AND status = 'closed');
    END
------
CREATE TRIGGER jz_custody_update BEFORE UPDATE ON custody_entry
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: the custody entry backs a posted voucher')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
                      ON v.entity_id = l.entity_id AND v.id = l.voucher_id
                      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
                      AND v.status = 'posted');
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id
                      AND period IN (OLD.period, NEW.period) AND status = 'closed');
      SELECT RAISE(ABORT, 'juzhang: custody entries go to cash or bank accounts only')
        WHERE NOT EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                          AND code = NEW.account_code AND custody IS NOT NULL);
    END
------
CREATE TRIGGER jz_custody_delete BEFORE DELETE ON custody_entry
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: the custody entry backs a posted voucher')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
                      ON v.entity_id = l.entity_id AND v.id = l.voucher_id
                      WHERE l.entity_id = OLD.entity_id AND l.custody_entry_id = OLD.id
                      AND v.status = 'posted');
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id
                      AND period = OLD.period AND status = 'closed');
    END
------
-- vouchers
CREATE TRIGGER jz_voucher_insert BEFORE INSERT ON voucher
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a voucher is inserted as a draft')
        WHERE NEW.status <> 'draft';
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = NEW.entity_id
                      AND period = NEW.period AND status = 'closed');
    END
------
CREATE TRIGGER jz_voucher_update BEFORE UPDATE ON voucher
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a posted voucher is never changed')
        WHERE OLD.status = 'posted';
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id
                      AND period IN (OLD.period, NEW.period) AND status = 'closed');
      SELECT RAISE(ABORT, 'juzhang: a voucher keeps its entity and id')
        WHERE NEW.entity_id <> OLD.entity_id OR NEW.id <> OLD.id;
    END
------
CREATE TRIGGER jz_voucher_delete BEFORE DELETE ON voucher
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a posted voucher is never deleted')
        WHERE OLD.status = 'posted';
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM period WHERE entity_id = OLD.entity_id
                      AND period = OLD.period AND status = 'closed');
    END
------
CREATE TRIGGER jz_voucher_post AFTER UPDATE OF status ON voucher
    WHEN NEW.status = 'posted'
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: the voucher does not balance')
        WHERE (SELECT COALESCE(SUM(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END), 0)
               FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) <> 0
           OR (SELECT COUNT(*) FROM voucher_line
               WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id) < 2;
      SELECT RAISE(ABORT, 'juzhang: voucher numbers must run without gaps')
        WHERE NEW.number > 1 AND NOT EXISTS (SELECT 1 FROM voucher
              WHERE entity_id = NEW.entity_id AND period = NEW.period
              AND number = NEW.number - 1 AND status = 'posted');
      SELECT RAISE(ABORT, 'juzhang: the opening balances do not balance')
        WHERE (SELECT COALESCE(SUM(amount_fen), 0) FROM opening_balance
               WHERE entity_id = NEW.entity_id) <> 0;
      SELECT RAISE(ABORT, 'juzhang: a custody-account line is not backed by a custody entry')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN account a
              ON a.entity_id = l.entity_id AND a.code = l.account_code
              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
              AND a.custody IS NOT NULL AND l.custody_entry_id IS NULL);
      SELECT RAISE(ABORT, 'juzhang: custody entry and voucher lines disagree or back twice')
        WHERE EXISTS (SELECT 1 FROM voucher_line l JOIN custody_entry c
              ON c.entity_id = l.entity_id AND c.id = l.custody_entry_id
              WHERE l.entity_id = NEW.entity_id AND l.voucher_id = NEW.id
              AND ((CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
                   <> (CASE NEW.kind WHEN 'reversal' THEN -c.amount_fen ELSE c.amount_fen END)
              OR (SELECT SUM(CASE l2.side WHEN 'D' THEN l2.amount_fen ELSE -l2.amount_fen END)
                   FROM voucher_line l2 JOIN voucher v2
                   ON v2.entity_id = l2.entity_id AND v2.id = l2.voucher_id
                   WHERE l2.entity_id = l.entity_id
                   AND l2.custody_entry_id = l.custody_entry_id
                   AND v2.status = 'posted') NOT IN (0, c.amount_fen)));
      INSERT INTO account_balance (entity_id, account_code, period, debit_fen, credit_fen)
        SELECT NEW.entity_id, account_code, NEW.period,
               SUM(CASE side WHEN 'D' THEN amount_fen ELSE 0 END),
               SUM(CASE side WHEN 'C' THEN amount_fen ELSE 0 END)
        FROM voucher_line WHERE entity_id = NEW.entity_id AND voucher_id = NEW.id
        GROUP BY account_code
        ON CONFLICT (entity_id, account_code, period) DO UPDATE SET
          debit_fen = debit_fen + excluded.debit_fen,
          credit_fen = credit_fen + excluded.credit_fen;
    END
------
-- voucher lines
CREATE TRIGGER jz_line_insert BEFORE INSERT ON voucher_line
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a posted voucher is never changed')
        WHERE (SELECT status FROM voucher WHERE entity_id = NEW.entity_id
               AND id = NEW.voucher_id) = 'posted';
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM voucher v JOIN period p
              ON p.entity_id = v.entity_id AND p.period = v.period
              WHERE v.entity_id = NEW.entity_id AND v.id = NEW.voucher_id
              AND p.status = 'closed');
      SELECT RAISE(ABORT, 'juzhang: postings go to leaf accounts only')
        WHERE EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                      AND parent_code = NEW.account_code);
    END
------
CREATE TRIGGER jz_line_update BEFORE UPDATE ON voucher_line
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a posted voucher is never changed')
        WHERE EXISTS (SELECT 1 FROM voucher WHERE status = 'posted' AND (
              (entity_id = OLD.entity_id AND id = OLD.voucher_id)
              OR (entity_id = NEW.entity_id AND id = NEW.voucher_id)));
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM voucher v JOIN period p
              ON p.entity_id = v.entity_id AND p.period = v.period
              WHERE v.entity_id = OLD.entity_id AND v.id = OLD.voucher_id
              AND p.status = 'closed');
      SELECT RAISE(ABORT, 'juzhang: postings go to leaf accounts only')
        WHERE EXISTS (SELECT 1 FROM account WHERE entity_id = NEW.entity_id
                      AND parent_code = NEW.account_code);
    END
------
CREATE TRIGGER jz_line_delete BEFORE DELETE ON voucher_line
    BEGIN
      SELECT RAISE(ABORT, 'juzhang: a posted voucher is never changed')
        WHERE (SELECT status FROM voucher WHERE entity_id = OLD.entity_id
               AND id = OLD.voucher_id) = 'posted';
      SELECT RAISE(ABORT, 'juzhang: the period is closed')
        WHERE EXISTS (SELECT 1 FROM voucher v JOIN period p
              ON p.entity_id = v.entity_id AND p.period = v.period
              WHERE v.entity_id = OLD.entity_id AND v.id = OLD.voucher_id
              AND p.status = 'closed');
    END
