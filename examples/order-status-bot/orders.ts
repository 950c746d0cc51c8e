/**
 * The brand's "order system": a few orders in memory. A real bot would call the brand's own order API here.
 */
export interface Order {
  number: string;
  status: 'processing' | 'shipped' | 'delivered';
  /** What the bot tells the consumer. */
  detail: string;
  total: string;
}

const ORDERS: readonly Order[] = [
  { number: 'AB-1234', status: 'shipped', detail: 'shipped on Monday with Parcelco, tracking 1Z999AA10123456784; expected Thursday', total: '€89.90' },
  { number: 'CD-5678', status: 'delivered', detail: 'delivered yesterday at 14:05, left with the concierge', total: '€24.50' },
  { number: 'EF-9012', status: 'processing', detail: 'being packed in our warehouse; it ships within two working days', total: '€142.00' },
];

/** An order number as consumers type it: two letters, an optional dash, four or more digits ("ab1234", "AB-1234"). */
export const ORDER_NUMBER = /\b([A-Z]{2}-?\d{4,})\b/i;

/** The order number mentioned in a message, written the way the order system writes it ("AB-1234"), if any. */
export function orderNumberIn(text: string): string | undefined {
  const match = ORDER_NUMBER.exec(text)?.[1];
  if (!match) return undefined;
  const compact = match.replace('-', '').toUpperCase();
  return `${compact.slice(0, 2)}-${compact.slice(2)}`;
}

export function findOrder(number: string): Order | undefined {
  return ORDERS.find((order) => order.number === number);
}
