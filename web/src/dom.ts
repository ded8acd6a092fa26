// Small DOM helpers: the views create their elements once and then only change text and
// attributes, so that a 100 ms update rate costs little layout work.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

export function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.querySelector(`[data-testid="${id}"]`);
  if (!element) throw new Error(`[data-testid=${id}] is missing from index.html`);
  return element as T;
}

export function cell(row: HTMLTableRowElement, className = ''): HTMLTableCellElement {
  const td = row.insertCell();
  if (className) td.className = className;
  return td;
}

// Sets text only when it changed (cheaper than letting the browser diff it).
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

export function setData(element: HTMLElement, name: string, value: string | number | boolean) {
  const text = String(value);
  if (element.dataset[name] !== text) element.dataset[name] = text;
}

export function option(select: HTMLSelectElement, value: string, text: string): void {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  select.appendChild(o);
}
