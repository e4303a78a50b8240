/** A class label: any finite number or any string (1 and '1' are different classes). */
export type Label = number | string;
