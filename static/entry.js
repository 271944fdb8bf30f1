// entry.js — progressive enhancement of the data entry page (docs/entry.md). The page works fully
// without it; on an editable #entry-form it adds: a warning before leaving with unsaved changes,
// a check of number format while typing (the rules of core/number.h, and data-min/data-max once
// the number is complete: a short hint after the input and aria-invalid, never a change to what
// was typed), and the count of required fields still empty in #required-left. No libraries, no
// inline code (CSP default-src 'self').
//
// Written in ES5 for the old browsers of schools (IE 9–11, old Android and embedded WebViews):
// var and function only, no arrow functions, template literals, for…of, Map/Set/WeakSet,
// Array.from, classList or insertAdjacentElement. tests/integration/test_entry.py checks this.
(function () {
  'use strict';

  if (!document.getElementById || !document.addEventListener || !document.querySelectorAll) return;
  var form = document.getElementById('entry-form');
  if (!form || form.getAttribute('data-editable') !== '1') return;

  var SPACES = /^[ \t\r\n\u00a0\u3000]+|[ \t\r\n\u00a0\u3000]+$/g;
  var MAX_DIGITS = 15;
  var MAX_VALUE = 1e12;
  // What the browser shows before leaving (modern browsers show their own text instead).
  var LEAVE = '本页有尚未保存的修改，离开将会丢失。';
  var dirty = form.getAttribute('data-unsaved') === '1';

  // Whether element el has class name in its class attribute.
  function hasClass(el, name) {
    return (' ' + (el.getAttribute('class') || '') + ' ').indexOf(' ' + name + ' ') >= 0;
  }

  // The digit value of an ASCII or full-width character, or -1.
  function digitOf(c) {
    var n = c.charCodeAt(0);
    if (n >= 0x30 && n <= 0x39) return n - 0x30;
    if (n >= 0xff10 && n <= 0xff19) return n - 0xff10;
    return -1;
  }

  // Check a number as num_normalize does. Returns '' when the text is empty or acceptable,
  // otherwise the server's short message. `partial`: while typing, a number that could still
  // become valid by typing on ("1,2", ".") is not reported yet (but "-" already is).
  // (A character outside the BMP is two UTF-16 units here, each refused like the whole would be.)
  function numberProblem(text, decimals, partial) {
    var s = text.replace(SPACES, '');
    if (!s) return '';
    var neg = false, point = false, seps = false, firstGroup = true, firstZero = false;
    var group = 0, intDigits = 0, fracDigits = 0, fracSig = 0, intSig = '', frac = '';
    for (var i = 0; i < s.length; i++) {
      var c = s.charAt(i);
      var d = digitOf(c);
      if (d >= 0) {
        if (point) {
          frac += d;
          fracDigits++;
          if (d !== 0) fracSig = fracDigits;
        } else {
          if (group === 0 && firstGroup) firstZero = d === 0;
          group++;
          intDigits++;
          if (intSig || d !== 0) intSig += d;
        }
      } else if (c === ',' || c === '\uff0c') {
        if (point || group === 0) return '请输入数字';
        if (firstGroup ? group > 3 || firstZero : group !== 3) return '请输入数字';
        seps = true;
        firstGroup = false;
        group = 0;
      } else if (c === '.' || c === '\uff0e') {
        if (point || (seps && group !== 3)) return '请输入数字';
        point = true;
      } else if (i === 0 && (c === '-' || c === '\uff0d' || c === '\u2212')) {
        neg = true;
      } else {
        return '请输入数字';
      }
    }
    // What typing on could still complete: the first digit, or the last group of three.
    var incomplete = intDigits + fracDigits === 0 || (seps && !point && group !== 3);
    if (incomplete && partial && !(seps && group > 3)) return neg ? '不能为负数' : '';
    if (incomplete) return '请输入数字';
    if (neg) return '不能为负数';
    if (fracSig > decimals) return decimals === 0 ? '只能填写整数' : '最多 ' + decimals + ' 位小数';
    frac = frac.slice(0, fracSig);
    var sig = intSig.length + (intSig ? frac.length : frac.replace(/^0+/, '').length);
    if (sig > MAX_DIGITS || parseFloat((intSig || '0') + '.' + (frac || '0')) > MAX_VALUE) {
      return '数值过大';
    }
    return '';
  }

  // The places a number input allows: data-decimals for decimals, 0 for integers, at most 15.
  function decimalsOf(input) {
    if (input.getAttribute('data-kind') !== 'decimal') return 0;
    var n = parseInt(input.getAttribute('data-decimals'), 10);
    return isNaN(n) || n < 0 ? 0 : Math.min(n, MAX_DIGITS);
  }

  // The number a valid input holds (ASCII or full-width digits, separators, either point).
  function valueOf(text) {
    var s = text.replace(SPACES, '');
    var t = '';
    for (var i = 0; i < s.length; i++) {
      var c = s.charAt(i);
      var d = digitOf(c);
      if (d >= 0) t += d;
      else if (c === '.' || c === '\uff0e') t += '.';
    }
    return parseFloat(t);
  }

  // A range problem of a valid number against data-min/data-max, or ''.
  function rangeProblem(input) {
    var min = parseFloat(input.getAttribute('data-min'));
    var max = parseFloat(input.getAttribute('data-max'));
    var v = valueOf(input.value);
    if (isNaN(v) || (!(v < min) && !(v > max))) return '';
    return '应在 ' + input.getAttribute('data-min') + '～' + input.getAttribute('data-max') + ' 之间';
  }

  // Whether the server marked the input invalid (data-server-invalid: range, bounds, what this
  // script cannot check) and it still holds the value the server saw.
  function serverInvalid(input) {
    return input.getAttribute('data-server-invalid') === '1' && input.value === input.defaultValue;
  }

  // Show or remove the hint after a number input, and set aria-invalid to match.
  function checkInput(input, partial) {
    var msg = numberProblem(input.value, decimalsOf(input), partial);
    // a range is judged when the number is complete: typing 1978 passes through 1
    if (!msg && !partial && input.value.replace(SPACES, '') !== '') msg = rangeProblem(input);
    var id = 'js-hint-' + input.id;
    var hint = document.getElementById(id);
    var ids = (input.getAttribute('aria-describedby') || '').split(' ');
    var described = [];
    for (var i = 0; i < ids.length; i++) if (ids[i] && ids[i] !== id) described.push(ids[i]);
    if (msg) {
      if (!hint) {
        hint = document.createElement('span');
        hint.className = 'js-hint';
        hint.id = id;
        input.parentNode.insertBefore(hint, input.nextSibling);
      }
      hint.textContent = msg;
      described.push(id);
    } else if (hint) {
      hint.parentNode.removeChild(hint);
    }
    if (described.length) input.setAttribute('aria-describedby', described.join(' '));
    else input.removeAttribute('aria-describedby');
    if (msg || serverInvalid(input)) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  // Whether one required input, select or 是/否 group holds a value the server would count.
  function isFilled(el) {
    if (hasClass(el, 'yesno')) return !!el.querySelector('input[type=radio]:checked');
    if (el.value.replace(SPACES, '') === '') return false;
    if (hasClass(el, 'num')) {
      return !serverInvalid(el) && numberProblem(el.value, decimalsOf(el), false) === '' &&
        rangeProblem(el) === '';
    }
    return true;
  }

  // Write the number of required fields still empty into #required-left (its text and
  // data-left, the server's count when the page was made) and the number filled into
  // #required-filled.
  function updateRequired() {
    var left = document.getElementById('required-left');
    if (!left) return;
    var required = form.querySelectorAll('[data-required="1"]');
    var n = 0;
    for (var i = 0; i < required.length; i++) if (!isFilled(required[i])) n++;
    left.setAttribute('data-left', String(n));
    left.textContent = n ? '，还有 ' + n + ' 项未填' : '，必填项已全部填写';
    var filled = document.getElementById('required-filled');
    if (filled) filled.textContent = String(required.length - n);
  }

  // An edit of any control of the form.
  function onEdit(e) {
    var el = e.target;
    if (!el || el.form !== form) return;
    dirty = true;
    if (hasClass(el, 'num')) checkInput(el, e.type === 'input');
    updateRequired();
  }

  // Ask before leaving the page while there are unsaved changes.
  function onBeforeUnload(e) {
    if (!dirty) return undefined;
    if (e.preventDefault) e.preventDefault();
    e.returnValue = LEAVE;
    return LEAVE;
  }

  // Submitting saves: nothing is left to lose.
  function onSubmit() {
    dirty = false;
  }

  document.addEventListener('input', onEdit, false);
  document.addEventListener('change', onEdit, false);
  form.addEventListener('submit', onSubmit, false);
  window.addEventListener('beforeunload', onBeforeUnload, false);
})();
